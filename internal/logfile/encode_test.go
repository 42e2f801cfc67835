package logfile

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello\n", `"hello\n"`},
		{"tab\there\r\n", `"tab\there\r\n"`},
		{`q"b\`, `"q\"b\\"`},
		{"<a>&", `"\u003ca\u003e\u0026"`},
		{"\x00\x1b[0m\x7f", `"\u0000\u001b[0m` + "\x7f" + `"`},
		{"caf\u00e9 \u2028", `"caf` + "\u00e9" + ` \u2028"`},
		{"bad\xff\xfeend", `"bad\ufffd\ufffdend"`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := string(appendString(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// Whatever the bytes, the line decodes with encoding/json to the same text
// (invalid UTF-8 replaced, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"a\nb", "\xff", "<&>", "\u2029\t", strings.Repeat("é", 3)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := json.Marshal(string(s))
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q: decoded %q, want %q", s, got, w)
		}
	})
}
