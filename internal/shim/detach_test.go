package shim

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunks is a reader returning one chunk per Read.
type chunks []string

func (c *chunks) Read(p []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	*c = (*c)[1:]
	return n, nil
}

func TestSendDetachKeys(t *testing.T) {
	keys := DefaultDetachKeys
	tests := []struct {
		name     string
		in       []string
		keys     []byte
		want     string
		detached bool
	}{
		{"plain", []string{"ls\n"}, keys, "ls\n", false},
		{"detach", []string{"ab\x10\x11cd"}, keys, "ab", true},
		{"detach across reads", []string{"a\x10", "\x11"}, keys, "a", true},
		{"partial match forwarded", []string{"a\x10b"}, keys, "a\x10b", false},
		{"partial at eof forwarded", []string{"a\x10"}, keys, "a\x10", false},
		{"repeated first key", []string{"\x10\x10\x11"}, keys, "\x10", true},
		{"custom keys", []string{"xx^ay"}, []byte("^a"), "xx", true},
		{"no keys without tty", []string{"\x10\x11"}, nil, "\x10\x11", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := chunks(tt.in)
			var out bytes.Buffer
			err := send(&out, &in, tt.keys)
			if tt.detached != errors.Is(err, ErrDetached) {
				t.Fatalf("err = %v, detached want %v", err, tt.detached)
			}
			var got strings.Builder
			closed := false
			for {
				kind, p, err := readFrame(&out)
				if err != nil {
					break
				}
				switch kind {
				case frameStdin:
					got.Write(p)
				case frameStdinClose:
					closed = true
				}
			}
			if got.String() != tt.want {
				t.Errorf("forwarded %q, want %q", got.String(), tt.want)
			}
			if closed == tt.detached {
				t.Errorf("stdin close frame sent = %v", closed)
			}
		})
	}
}

func TestErrorKindsRoundTrip(t *testing.T) {
	for _, k := range errorKinds {
		r := errorResponse(k.with("boom"))
		if err := r.err(); !errors.Is(err, k.err) || err.Error() != "boom" {
			t.Errorf("%s: got %v", k.name, err)
		}
	}
}

func TestParseDetachKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		bad  bool
	}{
		{"", []byte{16, 17}, false},
		{"ctrl-p,ctrl-q", []byte{16, 17}, false},
		{"ctrl-a,x", []byte{1, 'x'}, false},
		{"ctrl-@,ctrl-[,ctrl-_", []byte{0, 27, 31}, false},
		{"ctrl-1", nil, true},
		{"abc", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseDetachKeys(tt.in)
		if (err != nil) != tt.bad || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v", tt.in, got, err)
		}
	}
}
