package shim

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-project/berth/internal/runtime/runtimetest"
)

// A container's pid 1 with a pid namespace of its own is signalled through
// its pidfd: a stop costs no runtime invocation. runc is wrapped to log its
// commands. (A part of TestShimOverRunc: it needs root.)
func testKillWithoutRuntime(t *testing.T, rt runtimetest.Runtime) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	wrapper := filepath.Join(dir, "runc")
	script := "#!/bin/sh\necho \"$@\" >> " + calls + "\nexec " + rt.Path + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rt.Path = wrapper
	e := newEnv(t, rt, []string{"sleep", "100"}, false, false, false)
	c := e.start()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(context.Background(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(c); st.Code != 137 {
		t.Fatalf("exit = %+v", st)
	}
	data, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if slices.Contains(strings.Fields(line), "kill") {
			t.Fatalf("the runtime was asked to kill: %q", line)
		}
	}
	// after the exit, a signal finds no container
	if err := c.Kill(context.Background(), syscall.SIGTERM); err == nil {
		t.Fatal("kill after the exit succeeded")
	}
}
