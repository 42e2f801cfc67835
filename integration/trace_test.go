package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
	"github.com/berth-project/berth/internal/trace"
)

// TestTraceRun: BERTH_TRACE=<file> berth run --rm writes the CLI's steps
// there, and the berthd (debug mode, as every test daemon) logs the steps of
// the same trace id from the create to the removal, the shim's included.
// Without the variable (or from the docker CLI) nothing is traced.
func TestTraceRun(t *testing.T) {
	d := sharedDaemon(t)
	file := filepath.Join(t.TempDir(), "cli.trace")
	cmd := d.BerthCmd("run", "--rm", "--network", "none", "busybox", "true")
	cmd.Env = append(withoutTrace(cmd.Env), "BERTH_TRACE="+file)
	testutil.Run(t, cmd, nil).Success(t)

	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the CLI wrote no trace: %v", err)
	}
	cliSteps := stepsOf(string(data), "")
	for _, want := range []string{"cli:create", "cli:attach:(upgraded)", "cli:start"} {
		if !slices.Contains(cliSteps.names, want) {
			t.Errorf("the CLI's trace has no %q step: %v", want, cliSteps.names)
		}
	}
	id := cliSteps.id
	if id == "" {
		t.Fatalf("no trace id in the CLI's trace:\n%s", data)
	}
	want := []string{
		"api:POST:/containers/create", "create:rootfs:(snapshot,:rw:layer)", "create:save",
		"start:spec", "shim:fork+exec", "shim:Go:runtime:start",
		"runtime:create+start:(runc:run:--detach)", "process:runs:until:its:exit",
		"exit:report:(shim:to:berthd)", "remove:record", "remove:folder:(into:the:trash)",
	}
	var missing []string
	waitFor(t, 10*time.Second, "berthd's trace of the run", func() bool {
		got := stepsOf(d.Log(), id)
		missing = missing[:0]
		for _, w := range want {
			if !slices.Contains(got.names, w) {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0
	})
	if got := stepsOf(d.Log(), id); !slices.Contains(got.srcs, "shim") {
		t.Errorf("no step timed by the shim: %v", got.srcs)
	}

	// off: no variable, and the docker CLI, add no trace line
	before := strings.Count(d.Log(), trace.Prefix)
	cmd = d.BerthCmd("run", "--rm", "--network", "none", "busybox", "true")
	cmd.Env = withoutTrace(cmd.Env)
	testutil.Run(t, cmd, nil).Success(t)
	if testutil.HasDockerCLI() {
		d.Docker(t, "run", "--rm", "--network", "none", "busybox", "true").Success(t)
	}
	time.Sleep(200 * time.Millisecond)
	if after := strings.Count(d.Log(), trace.Prefix); after != before {
		t.Errorf("untraced runs logged %d trace lines", after-before)
	}
}

type traceSteps struct {
	id          string
	names, srcs []string
}

// stepsOf lists the steps of trace id (the first trace's when id is empty)
// in text.
func stepsOf(text, id string) traceSteps {
	var s traceSteps
	for _, line := range strings.Split(text, "\n") {
		l, ok := trace.Parse(line)
		if !ok || (id != "" && l.ID != id) || (s.id != "" && l.ID != s.id) {
			continue
		}
		s.id = l.ID
		s.names = append(s.names, l.Step)
		s.srcs = append(s.srcs, l.Src)
	}
	return s
}

func withoutTrace(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "BERTH_TRACE=") })
}
