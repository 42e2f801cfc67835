package format

import (
	"strings"
	"testing"
)

func TestFuncs(t *testing.T) {
	type obj struct {
		Name   string
		Labels map[string]string
		List   []string
		Ints   []int
		HTML   string
	}
	data := obj{
		Name:   "hello world",
		Labels: map[string]string{"b": "2", "a": "1"},
		List:   []string{"x", "y"},
		Ints:   []int{1, 2, 3},
		HTML:   "<a&b>",
	}
	tests := []struct {
		tmpl, want string
	}{
		{`{{json .Labels}}`, `{"a":"1","b":"2"}`},
		{`{{json .HTML}}`, `"<a&b>"`},
		{`{{json .List}}`, `["x","y"]`},
		{`{{join .List ","}}`, `x,y`},
		{`{{join .Ints "-"}}`, `1-2-3`},
		{`{{join .Labels ","}}`, `1,2`},
		{`{{split .Name " "}}`, `[hello world]`},
		{`{{index (split .Name " ") 1}}`, `world`},
		{`{{title .Name}}`, `Hello World`},
		{`{{upper .Name}}`, `HELLO WORLD`},
		{`{{lower "ABC"}}`, `abc`},
		{`{{pad .Name 1 2}}|`, ` hello world  |`},
		{`{{pad "" 1 2}}|`, `|`},
		{`{{truncate .Name 5}}`, `hello`},
		{`{{truncate .Name 50}}`, `hello world`},
		{`{{index .Labels "a"}}`, `1`},
		{`{{println .Name}}`, "hello world\n"},
		{`{{.Name | upper}}`, "HELLO WORLD"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			tmpl, err := Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, data); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	type row struct{ ID string }
	tests := []struct {
		format, want string
	}{
		{`{{.Foo}}`, `template parsing error: template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type format.row`},
		{`{{nope .ID}}`, `template parsing error: template: :1: function "nope" not defined`},
		{`{{.ID`, `template parsing error: template: :1: unclosed action`},
		{`{{join .ID ","}}`, `template parsing error: template: :1:2: executing "" at <join .ID ",">: error calling join: expected slice, got string`},
	}
	for _, tt := range tests {
		var b strings.Builder
		err := Write(&b, Format(tt.format), []any{row{ID: "x"}}, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got error %v, want %q", tt.format, err, tt.want)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %q on error", tt.format, b.String())
		}
	}
}

func TestTitle(t *testing.T) {
	for in, want := range map[string]string{
		"ID": "ID", "CreatedAt": "CREATED AT", "LocalVolumes": "LOCAL VOLUMES", "HTTPProxy": "HTTP PROXY", "Size": "SIZE",
	} {
		if got := Title(in); got != want {
			t.Errorf("Title(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatTemplate(t *testing.T) {
	tests := []struct {
		in, want string
		table    bool
	}{
		{"json", "{{json .}}", false},
		{"table", "", true},
		{`table {{.ID}}\t{{.Name}}`, "{{.ID}}\t{{.Name}}", true},
		{` {{.ID}}\n `, "{{.ID}}\n", false},
		{"{{json .}}", "{{json .}}", false},
	}
	for _, tt := range tests {
		f := Format(tt.in)
		if got := f.Template(); got != tt.want {
			t.Errorf("%q.Template() = %q, want %q", tt.in, got, tt.want)
		}
		if f.IsTable() != tt.table {
			t.Errorf("%q.IsTable() = %v", tt.in, f.IsTable())
		}
	}
}

func TestValues(t *testing.T) {
	if got := TruncateID("sha256:0123456789abcdef0123"); got != "0123456789ab" {
		t.Errorf("TruncateID = %q", got)
	}
	if got := Size(4261000); got != "4.26MB" {
		t.Errorf("Size = %q", got)
	}
	if got := Ellipsis("abcdef", 4); got != "abc…" {
		t.Errorf("Ellipsis = %q", got)
	}
	if got := Ellipsis("abc", 4); got != "abc" {
		t.Errorf("Ellipsis = %q", got)
	}
}
