package shim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/detachkeys"
	"github.com/berth-project/berth/internal/runtime"
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
	keys := detachkeys.Default
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

// An exec failure crosses the socket as a field and comes out as the same
// typed error, message intact.
func TestExecErrorRoundTrip(t *testing.T) {
	for _, f := range []runtime.ExecFailure{runtime.CommandNotFound, runtime.CommandNotInvocable} {
		in := fmt.Errorf("runtime create c1: %w", &runtime.ExecError{Failure: f, Msg: `exec: "x": boom`})
		resp := errorResponse(in)
		data, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var back response
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		out := back.err()
		ee, ok := errors.AsType[*runtime.ExecError](out)
		if !ok || ee.Failure != f || out.Error() != in.Error() || !errdefs.IsInvalidArgument(out) {
			t.Errorf("%s: got %#v", f, out)
		}
	}
	plain := errorResponse(errdefs.ErrInvalidArgument.WithMessage("x"))
	if _, ok := errors.AsType[*runtime.ExecError](plain.err()); ok {
		t.Error("an invalid argument became an exec failure")
	}
}
