package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// tcpClient is a CLI aimed at a daemon's TCP address, with flags and
// environment of its own (no -H to the daemon's socket).
type tcpClient struct {
	name string // berth or docker
	d    *testutil.Daemon
	addr string   // host:port
	env  []string // added to the clients' clean environment
	args []string // global flags before the command
}

func (c tcpClient) cmd(args ...string) *exec.Cmd {
	bin := testutil.DockerCLI
	if c.name == "berth" {
		bin = filepath.Join(c.d.BinDir, "berth")
	}
	argv := append([]string{"-H", "tcp://" + c.addr}, c.args...)
	cmd := exec.Command(bin, append(argv, args...)...)
	cmd.Env = append(c.d.CLIEnv(), c.env...)
	return cmd
}

func (c tcpClient) run(t *testing.T, stdin string, args ...string) *testutil.Result {
	t.Helper()
	if stdin != "" {
		return testutil.Run(t, c.cmd(args...), strings.NewReader(stdin))
	}
	return testutil.Run(t, c.cmd(args...), nil)
}

// certEnv is the variables that point a client at a certificate folder
// and turn verification on: docker's for docker, berth's own for berth.
func certEnv(name, dir string) []string {
	if name == "docker" {
		return []string{"DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + dir}
	}
	return []string{"BERTH_TLS_VERIFY=1", "BERTH_CERT_PATH=" + dir}
}

// TestAPIOverTLS serves the API on 127.0.0.1 with --tlsverify, as dockerd
// does: a client with a certificate signed by the daemon's CA works, over
// flags or the environment, including hijacked streams (run attaches, -i
// half-closes its input); one without a certificate, with one from
// another CA, or speaking plain HTTP is refused. Then clients that go
// away (kill -9) from attach, exec, logs -f and events leave no connection
// open in berthd.
func TestAPIOverTLS(t *testing.T) {
	t.Parallel()
	certs := testutil.NewCerts(t)
	addr := "127.0.0.1:" + freePort(t)
	d := testutil.StartDaemon(t, testutil.WithArgs("-H", "tcp://"+addr, "--tlsverify",
		"--tlscacert", certs.CA, "--tlscert", certs.ServerCert, "--tlskey", certs.ServerKey))
	d.LoadBusybox(t)
	if log := d.Log(); strings.Contains(log, "without --tlsverify") {
		t.Errorf("berthd warned about an unverified TCP socket although it verifies clients:\n%s", log)
	}
	for _, name := range []string{"berth", "docker"} {
		t.Run(name, func(t *testing.T) {
			if name == "docker" {
				testutil.RequiresDockerCLI(t)
			}
			flags := tcpClient{name: name, d: d, addr: addr,
				args: []string{"--tlsverify", "--tlscacert", certs.CA, "--tlscert", certs.ClientCert, "--tlskey", certs.ClientKey}}
			env := tcpClient{name: name, d: d, addr: addr, env: certEnv(name, certs.Dir)}

			t.Run("certificate by flags", func(t *testing.T) {
				out := flags.run(t, "", "run", "--rm", "busybox", "echo", "over-tls").Success(t).Out()
				if out != "over-tls" {
					t.Errorf("run over TLS printed %q, want over-tls", out)
				}
			})
			t.Run("certificate from the environment", func(t *testing.T) {
				out := env.run(t, "piped in\n", "run", "-i", "--rm", "busybox", "cat").Success(t).Out()
				if out != "piped in" {
					t.Errorf("run -i over TLS printed %q, want the input back", out)
				}
			})
			if name == "berth" {
				t.Run("compose gets the TLS flags", func(t *testing.T) {
					flags.run(t, "", "compose", "ls").Success(t)
					c := tcpClient{name: name, d: d, addr: addr, env: certEnv(name, certs.NoCert)}
					assertRefused(t, c.run(t, "", "compose", "ls"))
				})
			}
			t.Run("no client certificate", func(t *testing.T) {
				c := tcpClient{name: name, d: d, addr: addr, env: certEnv(name, certs.NoCert)}
				res := c.run(t, "", "ps")
				assertRefused(t, res)
			})
			t.Run("certificate from another CA", func(t *testing.T) {
				c := tcpClient{name: name, d: d, addr: addr, env: certEnv(name, certs.Rogue)}
				assertRefused(t, c.run(t, "", "ps"))
			})
			t.Run("plain HTTP", func(t *testing.T) {
				c := tcpClient{name: name, d: d, addr: addr}
				res := c.run(t, "", "ps")
				if res.ExitCode == 0 {
					t.Fatalf("plain HTTP to the TLS socket succeeded: %s", res)
				}
				if !strings.Contains(res.Stderr, "Client sent an HTTP request to an HTTPS server") {
					t.Errorf("want the server's HTTPS notice on stderr: %s", res)
				}
			})
			t.Run("clients that go away", func(t *testing.T) {
				ticker := unique("tick")
				flags.run(t, "", "run", "-d", "--name", ticker, "busybox", "sh", "-c", "while :; do echo tick; sleep 0.2; done").Success(t)
				rmOnCleanup(t, d, ticker)
				silent := unique("silent")
				flags.run(t, "", "run", "-d", "--name", silent, "busybox", "sleep", "300").Success(t)
				rmOnCleanup(t, d, silent)
				for _, tc := range []struct {
					what  string
					args  []string
					ticks bool // the client prints ticks
				}{
					{"attach", []string{"attach", ticker}, true},
					{"attach to a silent container", []string{"attach", silent}, false},
					{"exec", []string{"exec", ticker, "sh", "-c", "while :; do echo tick; sleep 0.2; done"}, true},
					{"logs -f", []string{"logs", "-f", ticker}, true},
					{"events", []string{"events"}, false},
				} {
					t.Run(tc.what, func(t *testing.T) {
						killedClientLeavesNoConn(t, flags, addr, tc.args, tc.ticks)
					})
				}
			})
		})
	}
}

// assertRefused checks that a client was turned away by the TLS handshake.
func assertRefused(t *testing.T, res *testutil.Result) {
	t.Helper()
	if res.ExitCode == 0 {
		t.Fatalf("a client without a valid certificate was served: %s", res)
	}
	if !strings.Contains(res.Stderr, "certificate") {
		t.Errorf("want a certificate error on stderr: %s", res)
	}
}

// killedClientLeavesNoConn starts a streaming client, waits for its
// connection to berthd (and, for the output streams, its first line),
// kills it with SIGKILL and waits for berthd to close its side. A TCP
// client that vanishes only sends a FIN, which a client that merely ends
// its input (docker attach does at once) sends too: berthd notices on its
// next write to it, or by probing a multiplexed stream (the silent
// container).
func killedClientLeavesNoConn(t *testing.T, c tcpClient, addr string, args []string, ticks bool) {
	t.Helper()
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	since := strconv.FormatInt(time.Now().Unix(), 10)
	cmd := c.cmd(args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	}()
	if ticks {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.Contains(line, "tick") {
			t.Fatalf("%s: first line %q, %v", args[0], line, err)
		}
	}
	waitFor(t, 10*time.Second, "the client's connection to berthd", func() bool { return serverConns(t, port) > 0 })
	if args[0] == "attach" {
		// the attach event comes once the stream is hijacked
		container := args[len(args)-1]
		waitFor(t, 10*time.Second, "the attach event", func() bool {
			return c.d.Berth(t, "events", "--since", since, "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
				"--filter", "event=attach", "--filter", "container="+container, "--format", "{{.Action}}").Out() != ""
		})
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
	killed = true
	deadline := time.Now().Add(10 * time.Second)
	for serverConns(t, port) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("berthd still holds %d connection(s) on :%d 10s after its %s client was killed", serverConns(t, port), port, args[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serverConns counts berthd's side of connections to 127.0.0.1:port that
// are established or waiting for berthd to close (CLOSE_WAIT).
func serverConns(t *testing.T, port int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf(":%04X", port)
	n := 0
	for _, l := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasSuffix(f[1], local) {
			continue
		}
		if f[3] == "01" || f[3] == "08" { // ESTABLISHED, CLOSE_WAIT
			n++
		}
	}
	return n
}

// TestAPIPlainTCP: berthd refuses to serve the API on TCP without TLS
// unless asked explicitly, and then warns as dockerd does.
func TestAPIPlainTCP(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	addr := "127.0.0.1:" + freePort(t)
	t.Run("refused unless asked", func(t *testing.T) {
		d, err := testutil.NewDaemon(testutil.WithArgs("-H", "tcp://"+addr))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		cmd := exec.Command(filepath.Join(d.BinDir, "berthd"), d.Args()...)
		res := testutil.Run(t, cmd, nil)
		if res.ExitCode != 1 || !strings.Contains(res.Stderr, "refusing to serve the API on http://"+addr+" without encryption") ||
			!strings.Contains(res.Stderr, "--tls=false") {
			t.Errorf("berthd -H tcp:// without TLS: want exit 1 and the refusal: %s", res)
		}
	})
	t.Run("--tls=false", func(t *testing.T) {
		d := testutil.StartDaemon(t, testutil.WithArgs("-H", "tcp://"+addr, "--tls=false"))
		for _, w := range []string{
			"Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.",
			"Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!",
		} {
			if !strings.Contains(d.Log(), w) {
				t.Errorf("berthd's log lacks dockerd's warning %q", w)
			}
		}
		c := tcpClient{name: "berth", d: d, addr: addr}
		if out := c.run(t, "", "version", "--format", "{{.Server.APIVersion}}").Success(t).Out(); out == "" {
			t.Error("no server version over plain TCP")
		}
	})
}
