package shim

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/runtime/runtimetest"
)

// execProcessJSON is the bundle's process with args and tty.
func (e *env) execProcessJSON(args []string, tty bool) []byte {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.cfg.Bundle, "config.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var spec struct {
		Process map[string]any `json:"process"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		e.t.Fatal(err)
	}
	spec.Process["args"], spec.Process["terminal"] = args, tty
	out, err := json.Marshal(spec.Process)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func testExec(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sleep", "300"}, false, false, false)
	c := e.start()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var stdout, stderr syncBuffer
	var pid int
	code, err := c.Exec(ctx, ExecOpts{
		Process: e.execProcessJSON([]string{"sh", "-c", "echo out; echo err >&2; exit 3"}, false),
		Stdout:  &stdout, Stderr: &stderr,
		Started: func(p int, _ func(uint16, uint16) error) { pid = p },
	})
	if err != nil || code != 3 || stdout.String() != "out\n" || stderr.String() != "err\n" || pid <= 0 {
		t.Fatalf("exec: code %d err %v stdout %q stderr %q pid %d", code, err, stdout.String(), stderr.String(), pid)
	}

	var in syncBuffer
	code, err = c.Exec(ctx, ExecOpts{Process: e.execProcessJSON([]string{"cat"}, false), Stdin: strings.NewReader("x\ny\n"), Stdout: &in})
	if err != nil || code != 0 || in.String() != "x\ny\n" {
		t.Fatalf("exec cat: code %d err %v stdout %q", code, err, in.String())
	}

	var tty syncBuffer
	code, err = c.Exec(ctx, ExecOpts{Process: e.execProcessJSON([]string{"sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty"}, true), Tty: true, Stdout: &tty})
	if err != nil || code != 0 || !strings.Contains(tty.String(), "is-a-tty") {
		t.Fatalf("exec tty: code %d err %v output %q", code, err, tty.String())
	}

	_, err = c.Exec(ctx, ExecOpts{Process: e.execProcessJSON([]string{"berth-no-such-command"}, false)})
	if ee, ok := errors.AsType[*runtime.ExecError](err); !ok || ee.Failure != runtime.CommandNotFound {
		t.Fatalf("exec of a missing command: %v, want an ExecError (not found)", err)
	}

	// the container's own process is untouched by the execs
	if err := c.Kill(ctx, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.wait(c)
	if _, err := c.Exec(ctx, ExecOpts{Process: e.execProcessJSON([]string{"sh"}, false)}); !errdefs.IsConflict(err) {
		t.Fatalf("exec after the exit: %v, want a conflict", err)
	}
}
