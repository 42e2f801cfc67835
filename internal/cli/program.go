package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// execProgram runs prog, one of berth's companion programs (berth-build,
// berth-compose), with args and the extra environment entries env; the
// global -H travels as BERTH_HOST. With the process's own streams it
// replaces berth (no second process to wait on, signals go straight to
// it); otherwise it runs as a child whose exit code berth returns. what
// names the commands prog serves, for the error when it is missing.
func (c *Cli) execProgram(cmd *cobra.Command, prog, what string, args, env []string) error {
	path, err := findProgram(prog, what)
	if err != nil {
		return err
	}
	environ := os.Environ()
	if c.host != "" {
		env = append(env, hostEnv+"="+c.host)
	}
	for _, kv := range env {
		// an entry set here wins over an inherited one (a child's getenv
		// takes the first entry of a name)
		name, _, _ := strings.Cut(kv, "=")
		environ = slices.DeleteFunc(environ, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		environ = append(environ, kv)
	}
	if c.In == os.Stdin && c.Out == os.Stdout && c.Err == os.Stderr {
		return os.NewSyscallError("exec "+path, syscall.Exec(path, append([]string{path}, args...), environ))
	}
	child := exec.CommandContext(cmd.Context(), path, args...)
	child.Env, child.Stdin, child.Stdout, child.Stderr = environ, c.In, c.Out, c.Err
	child.Cancel = func() error { return child.Process.Signal(syscall.SIGTERM) }
	err = child.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return StatusError{StatusCode: 128 + int(ws.Signal())}
		}
		return StatusError{StatusCode: exit.ExitCode()}
	}
	return err
}

// findProgram finds prog beside the running executable, else in $PATH.
func findProgram(prog, what string) (string, error) {
	self, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		p := filepath.Join(filepath.Dir(self), prog)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(prog)
	if err != nil {
		return "", fmt.Errorf("%s is needed for %s: not found beside %s nor in $PATH", prog, what, self)
	}
	return p, nil
}
