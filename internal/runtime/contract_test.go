package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/runtime/runtimetest"
)

// The driver over a runtime that really runs containers: the fake one
// without root, the real runc with it, through the same test bodies.
func TestDriverOverFakeRuntime(t *testing.T) { testContract(t, runtimetest.Fake(t)) }

func TestDriverOverRunc(t *testing.T) { testContract(t, runtimetest.Runc(t)) }

func testContract(t *testing.T, rt runtimetest.Runtime) {
	for _, tt := range []struct {
		name string
		test func(t *testing.T, rt runtimetest.Runtime)
	}{
		{"MissingContainer", testMissingContainer},
		{"Lifecycle", testLifecycle},
		{"ExecFailure", testExecFailure},
		{"PauseResumeUpdate", testPauseResumeUpdate},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, rt) })
	}
}

func newDriver(t *testing.T, rt runtimetest.Runtime) (*Runtime, string) {
	t.Helper()
	id := fmt.Sprintf("berth-runtime-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	r := &Runtime{Path: rt.Path, Root: t.TempDir()}
	t.Cleanup(func() { _ = r.Delete(context.Background(), id, true) })
	return r, id
}

// Every operation on a container that does not exist.
func testMissingContainer(t *testing.T, rt runtimetest.Runtime) {
	r, id := newDriver(t, rt)
	ctx := context.Background()
	if _, err := r.State(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("state: %v", err)
	}
	if err := r.Kill(ctx, id, syscall.SIGKILL, false); !errdefs.IsNotFound(err) {
		t.Errorf("kill: %v", err)
	}
	if err := r.Delete(ctx, id, false); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := r.Start(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("start: %v", err)
	}
}

// Create, start, kill and delete, with the errors of each state.
func testLifecycle(t *testing.T, rt runtimetest.Runtime) {
	r, id := newDriver(t, rt)
	ctx := context.Background()
	bundle := rt.Bundle(t, []string{"sleep", "100"}, false)
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	if err := r.Create(ctx, id, bundle, CreateOpts{PidFile: pidFile}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if st, err := r.State(ctx, id); err != nil || st.Status != "created" || st.Pid != pid || st.ID != id || st.Bundle != bundle {
		t.Fatalf("state after create = %+v, %v; pid file %d", st, err, pid)
	}
	if err := r.Create(ctx, id, bundle, CreateOpts{}); !errdefs.IsAlreadyExists(err) {
		t.Errorf("create again: %v", err)
	}
	if err := r.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, err := r.State(ctx, id); err != nil || st.Status != "running" || st.Pid != pid {
		t.Fatalf("state after start = %+v, %v", st, err)
	}
	if err := r.Start(ctx, id); !errdefs.IsConflict(err) {
		t.Errorf("start again: %v", err)
	}
	if err := r.Delete(ctx, id, false); !errdefs.IsConflict(err) {
		t.Errorf("delete of a running container: %v", err)
	}
	if err := r.Kill(ctx, id, syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := r.State(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state after kill = %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.Kill(ctx, id, syscall.SIGKILL, false); !errdefs.IsNotFound(err) {
		t.Errorf("kill of a stopped container: %v", err)
	}
	if err := r.Start(ctx, id); !errdefs.IsConflict(err) {
		t.Errorf("start of a stopped container: %v", err)
	}
	if err := r.Delete(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.State(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("state after delete: %v", err)
	}
}

// A command that cannot be executed fails the create with its class.
func testExecFailure(t *testing.T, rt runtimetest.Runtime) {
	for _, tt := range []struct {
		cmd  string
		want ExecFailure
	}{
		{"nonexistent-cmd", CommandNotFound},
		{"/no/such/cmd", CommandNotFound},
		{"/bin", CommandNotInvocable}, // a directory
	} {
		t.Run(tt.cmd, func(t *testing.T) {
			r, id := newDriver(t, rt)
			err := r.Create(context.Background(), id, rt.Bundle(t, []string{tt.cmd}, false), CreateOpts{})
			var ee *ExecError
			if !errors.As(err, &ee) || ee.Failure != tt.want || !strings.Contains(err.Error(), tt.cmd) {
				t.Fatalf("err = %v, want a %s exec failure naming %s", err, tt.want, tt.cmd)
			}
			if _, err := r.State(context.Background(), id); !errdefs.IsNotFound(err) {
				t.Errorf("a failed create left the container: %v", err)
			}
		})
	}
}

// Pause and resume move the state, with the runtime's refusals; update
// takes new limits on a running container.
func testPauseResumeUpdate(t *testing.T, rt runtimetest.Runtime) {
	r, id := newDriver(t, rt)
	ctx := context.Background()
	if err := r.Pause(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("pause of a missing container: %v", err)
	}
	if err := r.Create(ctx, id, rt.Bundle(t, []string{"sleep", "100"}, false), CreateOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := r.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, err := r.State(ctx, id); err != nil || st.Status != "paused" {
		t.Errorf("state after pause = %+v, %v", st, err)
	}
	if err := r.Pause(ctx, id); err == nil {
		t.Error("pause of a paused container: no error")
	}
	if err := r.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, err := r.State(ctx, id); err != nil || st.Status != "running" {
		t.Errorf("state after resume = %+v, %v", st, err)
	}
	if err := r.Resume(ctx, id); err == nil {
		t.Error("resume of a running container: no error")
	}
	if err := r.Update(ctx, id, []byte(`{"pids":{"limit":64}}`)); err != nil {
		t.Errorf("update: %v", err)
	}
	if err := r.Update(ctx, id, []byte(`{`)); err == nil {
		t.Error("update with bad JSON: no error")
	}
}
