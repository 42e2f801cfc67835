package format

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/<name>.golden, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// testRow is a row type like the commands' own: fields are methods.
type testRow struct {
	id, name string
	size     int64
	labels   map[string]string
}

func (r *testRow) ID() string   { return r.id }
func (r *testRow) Name() string { return r.name }
func (r *testRow) Size() string { return Size(r.size) }
func (r *testRow) Label(k string) string {
	return r.labels[k]
}
func (r *testRow) Headers() map[string]string { return nil }
func (r *testRow) MarshalJSON() ([]byte, error) {
	return MarshalMethods(r)
}

func testRows() []any {
	return []any{
		&testRow{id: "0123456789ab", name: "alpha", size: 4261000, labels: map[string]string{"com.example.my-label": "x"}},
		&testRow{id: "ba9876543210", name: "a-much-longer-name", size: 12},
	}
}

func TestWriteGolden(t *testing.T) {
	header := Header{"ID": "CONTAINER ID", "Name": "NAMES"}
	tests := []struct {
		name, format string
	}{
		{"table-default", `table {{.ID}}\t{{.Name}}\t{{.Size}}`},
		{"table-label", `table {{.ID}}\t{{.Label "com.example.my-label"}}`},
		{"table-functions", `table {{upper .Name}}\t{{truncate .ID 4}}`},
		{"template", `{{.ID}}: {{.Name}}`},
		{"json", "json"},
		{"table-json", `table {{json .Name}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, Format(tt.format), testRows(), header); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestWriteEmptyTable(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, `table {{.ID}}\t{{.CreatedAt}}`, nil, Header{"ID": "IMAGE ID"}); err != nil {
		t.Fatal(err)
	}
	if want := "IMAGE ID   CREATED AT\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestMarshalMethods(t *testing.T) {
	b, err := MarshalMethods(testRows()[0])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ID": "0123456789ab", "Name": "alpha", "Size": "4.26MB"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := MarshalMethods(testRow{}); err == nil {
		t.Error("a non-pointer should be refused")
	}
}
