// Package runtimetest gives the tests of the code that drives an OCI runtime
// (internal/runtime, the shim) the runtimes to drive: a fake one, which runs
// a bundle's process as a plain host process and so needs no root, and the
// real runc, for where the kernel is the point. Both take the same command
// line and the same bundles, so one test body serves both.
//
// The fake is the test binary itself started under the name Name; a test
// package that uses it lets its TestMain hand over to Main:
//
//	func TestMain(m *testing.M) {
//		if runtimetest.Invoked() {
//			runtimetest.Main()
//		}
//		os.Exit(m.Run())
//	}
package runtimetest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Name is the fake runtime's program name: a test binary started under it
// (as argv[0]) is the fake runtime.
const Name = "berth-fake-runtime"

// Invoked reports whether this process was started as the fake runtime.
func Invoked() bool { return filepath.Base(os.Args[0]) == Name }

// FailAnnotation prefixes the bundle annotations that make the fake runtime
// fail a command on purpose (runc ignores them): with "berth.test/fail-start"
// set to a message, every start of the container fails with that message,
// logged as runc logs its errors. The commands are create, run, start,
// state, kill and delete. See Inject.
const FailAnnotation = "berth.test/fail-"

// Inject makes the fake runtime fail command with msg for the container of
// bundle.
func Inject(t testing.TB, bundle, command, msg string) {
	t.Helper()
	var spec specs.Spec
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Annotations == nil {
		spec.Annotations = map[string]string{}
	}
	spec.Annotations[FailAnnotation+command] = msg
	writeSpec(t, bundle, spec)
}

// Commands are the host commands a bundle's process may run (args[0]),
// found in $PATH under both runtimes.
var Commands = []string{"sh", "echo", "cat", "sleep", "stty", "true"}

// Runtime is an OCI runtime binary under test.
type Runtime struct {
	Name string // "fake" or "runc"
	Path string // the binary
	// writeBundle fills dir with a bundle whose process runs args.
	writeBundle func(t testing.TB, dir string, args []string, tty bool)
}

// Bundle writes an OCI bundle in a new temp dir whose process runs args (one
// of Commands, or a missing command for the errors) with a terminal or not,
// and returns its path.
func (r Runtime) Bundle(t testing.TB, args []string, tty bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := os.MkdirAll(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.writeBundle(t, dir, args, tty)
	return dir
}

// Fake returns the fake runtime: this test binary, started through a
// symlink named Name in a temp dir removed with t.
func Fake(t testing.TB) Runtime {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), Name)
	if err := os.Symlink(exe, path); err != nil {
		t.Fatal(err)
	}
	return Runtime{Name: "fake", Path: path, writeBundle: writeFakeBundle}
}

// writeFakeBundle writes a minimal spec: the fake runs the process on the
// host, so the rootfs stays empty and the commands come from the host's $PATH.
func writeFakeBundle(t testing.TB, dir string, args []string, tty bool) {
	t.Helper()
	spec := specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{
			Terminal: tty,
			Args:     args,
			Env:      []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Cwd:      "/",
		},
	}
	writeSpec(t, dir, spec)
}

// Runc returns the real runc with a busybox rootfs; it skips t without root,
// runc or busybox-static.
func Runc(t testing.TB) Runtime {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	path := ""
	for _, p := range []string{"/usr/sbin/runc", "/usr/bin/runc"} {
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("needs runc")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs busybox-static (/bin/busybox)")
	}
	return Runtime{Name: "runc", Path: path, writeBundle: func(t testing.TB, dir string, args []string, tty bool) {
		writeRuncBundle(t, path, dir, args, tty)
	}}
}

// writeRuncBundle puts busybox and its Commands in the rootfs and takes
// runc's default spec (namespaces, mounts, capabilities) with args.
func writeRuncBundle(t testing.TB, runc, dir string, args []string, tty bool) {
	t.Helper()
	bin := filepath.Join(dir, "rootfs", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range Commands {
		if err := os.Symlink("busybox", filepath.Join(bin, c)); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(runc, "spec", "--bundle", dir).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	var spec specs.Spec
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	spec.Process.Args, spec.Process.Terminal = args, tty
	writeSpec(t, dir, spec)
}

func writeSpec(t testing.TB, dir string, spec specs.Spec) {
	t.Helper()
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}
