package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// Daemon is a private berthd with its own data root, exec root and socket,
// all under one short directory in /tmp (unix socket paths are limited to
// 108 bytes, and the exec root holds per-container sockets).
type Daemon struct {
	Root     string // /tmp/berth-<random>: everything below is removed by Close
	DataRoot string // --data-root
	ExecRoot string // --exec-root
	Sock     string // the API socket's path
	Host     string // "unix://" + Sock, for -H
	Pidfile  string // --pidfile
	LogPath  string // berthd's stdout and stderr
	BinDir   string // where berthd, berth and berth-shim live
	Net      Net    // its default bridge, subnet and nftables table

	args    []string // extra berthd flags
	noDebug bool     // run without -D (no debug socket)

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	logFile *os.File
	busybox bool   // busybox:latest is known to be in the data root
	config  string // daemon.json; "" is "{}"

	// loadMu serializes LoadBusybox: parallel tests that first use a daemon
	// together must import busybox once, or the second import moves the
	// tag to another image id under the first test's feet.
	loadMu sync.Mutex
}

// Option changes how a Daemon is set up.
type Option func(*Daemon)

// WithArgs adds flags to berthd's command line.
func WithArgs(args ...string) Option {
	return func(d *Daemon) { d.args = append(d.args, args...) }
}

// WithoutDebug runs berthd without -D: debug logs, but no debug socket.
func WithoutDebug() Option {
	return func(d *Daemon) { d.noDebug = true }
}

// WithConfig makes json the daemon's daemon.json (the default is "{}").
func WithConfig(json string) Option {
	return func(d *Daemon) { d.config = json }
}

// WithDataRoot makes the daemon use dir as its data root instead of a fresh
// one; Close then leaves dir in place.
func WithDataRoot(dir string) Option {
	return func(d *Daemon) { d.DataRoot = dir }
}

// StartDaemon starts a private berthd for t and tears it down when t ends:
// every container is removed, berthd gets SIGTERM, leftover shims are
// killed, mounts under its roots are unmounted and its directories removed.
// It skips t when not run as root.
func StartDaemon(t testing.TB, opts ...Option) *Daemon {
	t.Helper()
	RequiresRoot(t)
	d, err := NewDaemon(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("berthd log kept at %s; last lines:\n%s", d.SaveLog(), d.LogTail(60))
		}
		if err := d.Close(); err != nil {
			t.Errorf("tear down berthd: %v", err)
		}
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	return d
}

// NewDaemon prepares a daemon's directories without starting it.
func NewDaemon(opts ...Option) (*Daemon, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	root, err := shortTempDir()
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		Root:     root,
		DataRoot: filepath.Join(root, "data"),
		ExecRoot: filepath.Join(root, "x"),
		Sock:     filepath.Join(root, "berthd.sock"),
		Pidfile:  filepath.Join(root, "berthd.pid"),
		LogPath:  filepath.Join(root, "berthd.log"),
		BinDir:   bin,
	}
	d.Host = "unix://" + d.Sock
	if d.Net, err = newNet(); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(d)
	}
	// an empty daemon.json, so a host's /etc/berth/daemon.json never leaks in
	if d.config == "" {
		d.config = "{}"
	}
	if err := os.WriteFile(d.configFile(), []byte(d.config+"\n"), 0o644); err != nil {
		return nil, err
	}
	return d, nil
}

// shortTempDir makes /tmp/berth-<6 hex>.
func shortTempDir() (string, error) {
	for range 100 {
		b := make([]byte, 3)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		dir := "/tmp/berth-" + hex.EncodeToString(b)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", errors.New("no free /tmp/berth-* directory name")
}

func (d *Daemon) configFile() string { return filepath.Join(d.Root, "daemon.json") }

// Args is berthd's command line (without the program name).
func (d *Daemon) Args() []string {
	args := []string{"-H", d.Host, "--data-root", d.DataRoot, "--exec-root", d.ExecRoot,
		"--pidfile", d.Pidfile, "--config-file", d.configFile(), "-D"}
	if d.noDebug {
		args[len(args)-1] = "--log-level=debug"
	}
	args = append(args, d.Net.args()...)
	return append(args, d.args...)
}

// Start starts berthd and waits until it answers /_ping.
func (d *Daemon) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return errors.New("berthd is already running")
	}
	lf, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(lf, "=== %s: starting berthd %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(d.Args(), " "))
	cmd := exec.Command(filepath.Join(d.BinDir, "berthd"), d.Args()...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start berthd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	d.cmd, d.exited, d.logFile = cmd, exited, lf
	if err := waitPing(d.Sock, exited, 30*time.Second); err != nil {
		d.stopLocked(syscall.SIGKILL, 5*time.Second)
		return fmt.Errorf("berthd did not come up: %w\nberthd log:\n%s", err, d.LogTail(40))
	}
	return nil
}

// waitPing polls GET /_ping on sock until it answers 200, the process exits
// or the timeout passes.
func waitPing(sock string, exited <-chan struct{}, timeout time.Duration) error {
	hc := UnixHTTPClient(sock)
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("berthd exited")
		default:
		}
		resp, err := hc.Get("http://berthd/_ping")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/_ping answered %s", resp.Status)
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer to /_ping within %s: %v", timeout, last)
}

// UnixHTTPClient is an HTTP client whose every request goes to the unix
// socket sock, whatever the URL's host.
func UnixHTTPClient(sock string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var dialer net.Dialer
				return dialer.DialContext(ctx, "unix", sock)
			},
			DisableKeepAlives: true,
		},
	}
}

// Running reports whether the berthd process started by Start is alive.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// Pid is berthd's process id, 0 when it is not running.
func (d *Daemon) Pid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// Kill9 kills berthd with SIGKILL and waits for it to die; its containers and
// shims are left alone.
func (d *Daemon) Kill9() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopLocked(syscall.SIGKILL, 10*time.Second)
}

// Stop sends berthd SIGTERM and waits for it to exit (SIGKILL after 20s); its
// containers keep running under their shims.
func (d *Daemon) Stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopLocked(syscall.SIGTERM, 20*time.Second)
}

func (d *Daemon) stopLocked(sig syscall.Signal, grace time.Duration) error {
	if d.cmd == nil {
		return nil
	}
	defer func() {
		d.cmd = nil
		d.logFile.Close()
	}()
	select {
	case <-d.exited:
		return nil
	default:
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.exited:
		return nil
	case <-time.After(grace):
	}
	_ = d.cmd.Process.Kill()
	<-d.exited
	if sig == syscall.SIGKILL {
		return nil
	}
	return fmt.Errorf("berthd did not exit within %s of %s; killed", grace, sig)
}

// Restart stops berthd gracefully if it runs, then starts it again on the same
// roots and socket.
func (d *Daemon) Restart(t testing.TB) {
	t.Helper()
	if err := d.Stop(); err != nil {
		t.Error(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
}

// Close removes every container, stops berthd, kills shims and runtime
// containers it left, unmounts what is still mounted under its roots and
// removes its directories. It is safe to call more than once.
func (d *Daemon) Close() error {
	var errs []error
	if d.Running() {
		if err := d.removeAllContainers(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := d.Stop(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, d.reap()...)
	if err := d.Net.remove(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(d.Root); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeAllContainers force-removes every container through the API.
func (d *Daemon) removeAllContainers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := client.New(client.WithHost(d.Host))
	if err != nil {
		return err
	}
	defer c.Close()
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return fmt.Errorf("list containers for clean-up: %w", err)
	}
	var errs []error
	for _, ctr := range list.Items {
		if _, err := c.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !strings.Contains(err.Error(), "No such container") {
			errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID, err))
		}
	}
	return errors.Join(errs...)
}

// LogTail returns the last n lines of berthd's log.
func (d *Daemon) LogTail(n int) string {
	data, err := os.ReadFile(d.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// SaveLog copies berthd's log out of the daemon's directory, which Close
// removes, to $TMPDIR/berth-test-logs/, and returns the copy's path.
func (d *Daemon) SaveLog() string {
	dir := filepath.Join(os.TempDir(), "berth-test-logs")
	data, err := os.ReadFile(d.LogPath)
	if err != nil {
		return err.Error()
	}
	dest := filepath.Join(dir, filepath.Base(d.Root)+".log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err.Error()
	}
	if err := os.WriteFile(dest, data, 0o644); err != nil {
		return err.Error()
	}
	return dest
}

// Log returns berthd's whole log.
func (d *Daemon) Log() string {
	data, _ := os.ReadFile(d.LogPath)
	return string(data)
}

// Client returns a moby API client for the daemon, closed when t ends.
func (d *Daemon) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.WithHost(d.Host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
