package runtimetest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The fake runtime takes runc's command line (the global --root, --log,
// --log-format and --debug; create, run --detach, start, exec --detach,
// state, kill, delete) and keeps runc's conventions where the callers read them: errors
// logged as JSON lines to --log (stderr without it) with runc's words, the
// pid file, the pty master sent over --console-socket, a created process
// waiting on an exec fifo until start, the container's pid 1 left detached
// for the caller's subreaper. The created process is this binary too, in its
// init mode, until start lets it execute the command. It runs on the host: no
// namespaces, no rootfs, no cgroup, no user change; so the container's other
// processes outlive its pid 1 until delete kills them (the session its pid 1
// leads stands in for the cgroup).

// container is the fake's state of one container, <root>/<id>/state.json.
type container struct {
	ID        string    `json:"id"`
	Pid       int       `json:"pid"`
	StartTime uint64    `json:"startTime"` // of pid, from /proc: tells it from a reused pid
	Bundle    string    `json:"bundle"`
	Created   time.Time `json:"created"`
	// Fail maps a command to the error it fails with (FailAnnotation)
	Fail map[string]string `json:"fail,omitempty"`
	// Paused is set by pause and cleared by resume (SIGSTOP and SIGCONT
	// stand in for the freezer)
	Paused bool `json:"paused,omitempty"`
	dir    string
}

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo" // the created process waits on it until start, as in runc
)

// fake is one invocation: its global flags.
type fake struct {
	root, log, logFormat string
}

// Main is the fake runtime's program; it exits.
func Main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initProcess(os.Args[2:])
	}
	f := &fake{logFormat: "text"}
	args, err := f.parseGlobal(os.Args[1:])
	if err != nil {
		f.fatal(err)
	}
	if len(args) == 0 {
		f.fatal(errors.New("no command"))
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "create", "run":
		err = f.create(cmd, args)
	case "start":
		err = f.withContainer(cmd, args, nil, f.start)
	case "exec":
		var o execFlags
		err = f.withContainer(cmd, args, o.define, func(c *container, _ []string) error { return f.exec(c, &o) })
	case "state":
		err = f.withContainer(cmd, args, nil, f.state)
	case "kill":
		all := false
		err = f.withContainer(cmd, args, func(fs *flag.FlagSet) { fs.BoolVar(&all, "all", false, "") }, func(c *container, rest []string) error {
			return f.kill(c, rest, all)
		})
	case "pause", "resume":
		err = f.withContainer(cmd, args, nil, func(c *container, _ []string) error { return f.freeze(c, cmd == "pause") })
	case "update":
		var resources string
		err = f.withContainer(cmd, args, func(fs *flag.FlagSet) { fs.StringVar(&resources, "resources", "", "") }, func(c *container, _ []string) error {
			return f.update(c, resources)
		})
	case "delete":
		force := false
		err = f.withContainer(cmd, args, func(fs *flag.FlagSet) { fs.BoolVar(&force, "force", false, "") }, func(c *container, _ []string) error {
			return f.delete(c, force)
		})
	default:
		err = fmt.Errorf("command %q not supported by the fake runtime", cmd)
	}
	if err != nil {
		f.fatal(err)
	}
	os.Exit(0)
}

func (f *fake) parseGlobal(args []string) ([]string, error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		args = args[1:]
		if name == "debug" {
			continue
		}
		if !hasValue {
			if len(args) == 0 {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			value, args = args[0], args[1:]
		}
		switch name {
		case "root":
			f.root = value
		case "log":
			f.log = value
		case "log-format":
			f.logFormat = value
		default:
			return nil, fmt.Errorf("flag provided but not defined: --%s", name)
		}
	}
	if f.root == "" {
		return nil, errors.New("the fake runtime needs --root")
	}
	return args, nil
}

// fatal logs err as runc does, to --log or stderr, and exits 1.
func (f *fake) fatal(err error) {
	line := err.Error() + "\n"
	if f.logFormat == "json" {
		data, _ := json.Marshal(map[string]string{"level": "error", "msg": err.Error(), "time": time.Now().Format(time.RFC3339Nano)})
		line = string(data) + "\n"
	}
	var w io.Writer = os.Stderr
	if f.log != "" {
		if lf, lerr := os.OpenFile(f.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); lerr == nil {
			defer lf.Close()
			w = lf
		}
	}
	_, _ = io.WriteString(w, line)
	os.Exit(1)
}

// withContainer parses a command's flags, loads the container named by the
// first argument and runs do with it and the remaining arguments, unless the
// command is to fail.
func (f *fake) withContainer(cmd string, args []string, flags func(*flag.FlagSet), do func(c *container, rest []string) error) error {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if flags != nil {
		flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("container id cannot be empty")
	}
	c, err := f.load(fs.Arg(0))
	if err != nil {
		return err
	}
	if msg, ok := c.Fail[cmd]; ok {
		return errors.New(msg)
	}
	return do(c, fs.Args()[1:])
}

func (f *fake) load(id string) (*container, error) {
	dir := filepath.Join(f.root, id)
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("container does not exist")
	}
	if err != nil {
		return nil, err
	}
	var c container
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	c.dir = dir
	return &c, nil
}

// status is runc's: created until start, running while the process lives
// (a zombie has stopped), stopped after.
func (c *container) status() string {
	if st, err := procStat(c.Pid); err != nil || st.state == "Z" || st.start != c.StartTime {
		return "stopped"
	}
	if _, err := os.Stat(filepath.Join(c.dir, fifoName)); err == nil {
		return "created"
	}
	if c.Paused {
		return "paused"
	}
	return "running"
}

// procStatus is what the fake reads of a process in /proc/<pid>/stat.
type procStatus struct {
	state   string
	session int
	start   uint64 // clock ticks since boot
}

func procStat(pid int) (procStatus, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStatus{}, err
	}
	// the fields after the command, which may hold spaces and parentheses
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return procStatus{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return procStatus{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	session, err1 := strconv.Atoi(fields[3])
	start, err2 := strconv.ParseUint(fields[19], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procStatus{}, fmt.Errorf("bad /proc/%d/stat: %w", pid, err)
	}
	return procStatus{state: fields[0], session: session, start: start}, nil
}

// processes lists the container's live processes: those of the session its
// process leads, started since it. The session is the fake's stand-in for
// runc's cgroup (a process that makes a session of its own escapes it).
func (c *container) processes() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := procStat(pid); err == nil && st.session == c.Pid && st.start >= c.StartTime && st.state != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// create makes the container's process and leaves it waiting for start (or,
// for run --detach, starts it at once).
func (f *fake) create(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bundle := fs.String("bundle", "", "")
	pidFile := fs.String("pid-file", "", "")
	consoleSocket := fs.String("console-socket", "", "")
	detach := fs.Bool("detach", false, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd == "run" && !*detach {
		return errors.New("the fake runtime runs containers detached only (run --detach)")
	}
	if fs.NArg() != 1 || strings.ContainsAny(fs.Arg(0), "/") || fs.Arg(0) == "" {
		return fmt.Errorf("invalid container id %q", fs.Arg(0))
	}
	id := fs.Arg(0)
	if *bundle == "" {
		*bundle, _ = os.Getwd()
	}
	spec, err := readSpec(*bundle)
	if err != nil {
		return err
	}
	c := &container{ID: id, Bundle: *bundle, Created: time.Now().UTC(), dir: filepath.Join(f.root, id)}
	for k, v := range spec.Annotations {
		if command, ok := strings.CutPrefix(k, FailAnnotation); ok {
			if c.Fail == nil {
				c.Fail = map[string]string{}
			}
			c.Fail[command] = v
		}
	}
	if msg, ok := c.Fail[cmd]; ok {
		return errors.New(msg)
	}
	if err := os.MkdirAll(f.root, 0o711); err != nil {
		return err
	}
	if err := os.Mkdir(c.dir, 0o711); errors.Is(err, os.ErrExist) {
		return errors.New("container with given ID already exists")
	} else if err != nil {
		return err
	}
	if err := c.spawn(spec.Process, *consoleSocket); err != nil {
		_ = os.RemoveAll(c.dir)
		return fmt.Errorf("runc %s failed: %w", cmd, err)
	}
	if err := writeAtomic(filepath.Join(c.dir, stateFile), c); err != nil {
		return err
	}
	if *pidFile != "" {
		if err := writeAtomic(*pidFile, c.Pid); err != nil {
			return err
		}
	}
	if cmd == "run" {
		return f.start(c, nil)
	}
	return nil
}

// spawn starts the container's process, the fake's own binary in its init
// mode, in a session of its own, and waits until it waits on the exec fifo.
// It is left running when the fake exits, so that it is re-parented to the
// caller's subreaper like runc's init.
func (c *container) spawn(p *specs.Process, consoleSocket string) error {
	switch {
	case p.Terminal && consoleSocket == "":
		return errors.New("cannot allocate tty if runc will detach without setting console socket")
	case !p.Terminal && consoleSocket != "":
		return errors.New("cannot use console socket if runc will not detach or allocate tty")
	}
	exe, err := lookPath(p)
	if err != nil {
		return fmt.Errorf("unable to start container process: %w", err)
	}
	if err := unix.Mkfifo(filepath.Join(c.dir, fifoName), 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ready, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer ready.Close()
	cmd := &exec.Cmd{
		Path:        self,
		Args:        []string{Name, "init", filepath.Join(c.dir, fifoName), filepath.Join(c.Bundle, "config.json"), exe},
		Dir:         p.Cwd,
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		ExtraFiles:  []*os.File{readyW},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if p.Terminal {
		master, slave, err := pty.Open()
		if err != nil {
			return err
		}
		defer slave.Close()
		err = sendConsole(consoleSocket, master)
		master.Close()
		if err != nil {
			return fmt.Errorf("send console: %w", err)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, 0
	}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(ready)
	if string(msg) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("container init: %s", msg)
	}
	c.Pid = cmd.Process.Pid
	st, err := procStat(c.Pid)
	c.StartTime = st.start
	return err
}

// lookPath finds the process's command as runc does, with the PATH of the
// process's environment and relative to its working directory, and fails
// with the same words (Go's exec.LookPath).
func lookPath(p *specs.Process) (string, error) {
	if len(p.Args) == 0 {
		return "", errors.New("args must not be empty")
	}
	path := ""
	for _, kv := range p.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	// the fake is a short-lived process of its own: changing its
	// environment and directory is how exec.LookPath takes them
	if err := os.Setenv("PATH", path); err != nil {
		return "", err
	}
	if err := os.Chdir(p.Cwd); err != nil {
		return "", fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", p.Cwd, err)
	}
	exe, err := exec.LookPath(p.Args[0])
	if err != nil {
		return "", err
	}
	return filepath.Abs(exe)
}

// sendConsole passes the pty master over the console socket with
// SCM_RIGHTS, its name as the message, like runc.
func sendConsole(socket string, master *os.File) error {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, _, err = conn.(*net.UnixConn).WriteMsgUnix([]byte(master.Name()), unix.UnixRights(int(master.Fd())), nil)
	return err
}

func readSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("parse config.json: %w", err)
	}
	if spec.Process == nil {
		return nil, errors.New("config.json has no process")
	}
	return &spec, nil
}

// initProcess is the container's process until start: it says it is ready
// on fd 3 (or why not), waits for a byte on the exec fifo, then executes the
// command. It does not return.
func initProcess(args []string) {
	ready := os.NewFile(3, "ready")
	if len(args) != 3 {
		_, _ = fmt.Fprint(ready, "init: want fifo, config and executable")
		os.Exit(1)
	}
	fifo, err := unix.Open(args[0], unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		_, _ = fmt.Fprintf(ready, "open exec fifo: %v", err)
		os.Exit(1)
	}
	spec, err := readSpec(filepath.Dir(args[1]))
	if err != nil {
		_, _ = fmt.Fprint(ready, err)
		os.Exit(1)
	}
	_, _ = io.WriteString(ready, "ready")
	ready.Close()
	for {
		if _, err := unix.Read(fifo, make([]byte, 1)); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	unix.Close(fifo)
	// Like runc, give the command the default signal dispositions: caught
	// signals revert to the default on exec, ignored ones (the caller's
	// SIGHUP and SIGINT, inherited) would stay ignored.
	signal.Notify(make(chan os.Signal, 1))
	err = unix.Exec(args[2], spec.Process.Args, spec.Process.Env)
	// past create, as in runc, the failure is the container's own output
	fmt.Fprintf(os.Stderr, "exec %s: %v\n", args[2], err)
	os.Exit(127)
}

// start lets the created process run.
func (f *fake) start(c *container, _ []string) error {
	switch c.status() {
	case "running":
		return errors.New("cannot start an already running container")
	case "stopped":
		return errors.New("cannot start a container that has stopped")
	}
	path := filepath.Join(c.dir, fifoName)
	fifo, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENXIO) { // no reader: the process is gone
		return errors.New("cannot start a container that has stopped")
	}
	if err != nil {
		return err
	}
	defer unix.Close(fifo)
	if _, err := unix.Write(fifo, []byte{0}); err != nil {
		return err
	}
	return os.Remove(path)
}

// execFlags are runc exec's flags the fake takes.
type execFlags struct {
	process, pidFile, consoleSocket string
	detach                          bool
}

func (o *execFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&o.process, "process", "", "")
	fs.StringVar(&o.pidFile, "pid-file", "", "")
	fs.StringVar(&o.consoleSocket, "console-socket", "", "")
	fs.BoolVar(&o.detach, "detach", false, "")
}

// exec runs an additional process from a process.json beside the
// container's, detached and left to the caller's subreaper, failing with
// runc's words when its command cannot be executed.
func (f *fake) exec(c *container, o *execFlags) error {
	if !o.detach || o.process == "" {
		return errors.New("the fake runtime execs detached processes from --process only")
	}
	if c.status() != "running" {
		return errors.New("cannot exec in a stopped container")
	}
	data, err := os.ReadFile(o.process)
	if err != nil {
		return err
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("parse process: %w", err)
	}
	switch {
	case p.Terminal && o.consoleSocket == "":
		return errors.New("cannot allocate tty if runc will detach without setting console socket")
	case !p.Terminal && o.consoleSocket != "":
		return errors.New("cannot use console socket if runc will not detach or allocate tty")
	}
	exe, err := lookPath(&p)
	if err != nil {
		return fmt.Errorf("exec failed: unable to start container process: %w", err)
	}
	cmd := &exec.Cmd{
		Path: exe, Args: p.Args, Env: p.Env, Dir: p.Cwd,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if p.Terminal {
		master, slave, err := pty.Open()
		if err != nil {
			return err
		}
		defer slave.Close()
		err = sendConsole(o.consoleSocket, master)
		master.Close()
		if err != nil {
			return fmt.Errorf("send console: %w", err)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, 0
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if o.pidFile != "" {
		return writeAtomic(o.pidFile, cmd.Process.Pid)
	}
	return nil
}

// state prints runc's state JSON.
func (f *fake) state(c *container, _ []string) error {
	st := specs.State{Version: specs.Version, ID: c.ID, Bundle: c.Bundle, Status: specs.ContainerState(c.status())}
	if st.Status != specs.StateStopped {
		st.Pid = c.Pid
	}
	data, err := json.MarshalIndent(struct {
		specs.State
		Rootfs  string    `json:"rootfs"`
		Created time.Time `json:"created"`
	}{st, filepath.Join(c.Bundle, "rootfs"), c.Created}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(data))
	return err
}

// kill signals the process, or with all every process of the container.
func (f *fake) kill(c *container, args []string, all bool) error {
	sig := unix.SIGTERM
	if len(args) > 0 {
		s, err := parseSignal(args[0])
		if err != nil {
			return err
		}
		sig = s
	}
	if c.status() == "stopped" {
		return errors.New("container not running")
	}
	if all {
		for _, pid := range c.processes() {
			_ = unix.Kill(pid, sig)
		}
		return nil
	}
	return unix.Kill(c.Pid, sig)
}

func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// delete removes the container; a running one only with force, a created
// one always, as in runc. Like runc's, it kills what is left of the
// container: the fake has no pid namespace, so the other processes outlive
// its pid 1 until then.
func (f *fake) delete(c *container, force bool) error {
	if c.status() == "running" && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: container is running", c.ID)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := c.processes()
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %s: processes %v did not die after SIGKILL", c.ID, pids)
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return os.RemoveAll(c.dir)
}

// writeAtomic writes v (as JSON) to path through a temp file and a rename.
func writeAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// freeze pauses (SIGSTOP) or resumes (SIGCONT) every process of a running
// container, with runc's refusals.
func (f *fake) freeze(c *container, pause bool) error {
	switch st := c.status(); {
	case pause && st != "running":
		return fmt.Errorf("container not running")
	case !pause && st != "paused":
		return fmt.Errorf("container not paused")
	}
	sig := unix.SIGCONT
	if pause {
		sig = unix.SIGSTOP
	}
	for _, pid := range c.processes() {
		_ = unix.Kill(pid, sig)
	}
	c.Paused = pause
	return writeAtomic(filepath.Join(c.dir, stateFile), c)
}

// UpdateFile is where the fake runtime's update leaves the resources it was
// given (JSON), in the container's state folder under the runtime's root.
const UpdateFile = "resources.json"

// update records the resources read from --resources ("-": stdin).
func (f *fake) update(c *container, from string) error {
	if c.status() == "stopped" {
		return errors.New("container not running")
	}
	var data []byte
	var err error
	if from == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(from)
	}
	if err != nil {
		return err
	}
	var r specs.LinuxResources
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("decode resources: %w", err)
	}
	return writeAtomic(filepath.Join(c.dir, UpdateFile), r)
}
