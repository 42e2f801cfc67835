//go:build linux

package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCreateValidation: settings docker refuses at create, and those berth
// cannot honour yet, are refused at create with docker's message; no
// container is left behind.
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	tests := []struct {
		name string
		args []string // between `run --name X` and the image
		msg  string
	}{
		{"bind mount relative target", []string{"-v", "/tmp:data"}, `invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`},
		{"bind mount bad mode", []string{"-v", "/tmp:/data:rx"}, "invalid mode: rx"},
		{"volume name too short", []string{"-v", "v:/data"}, "create v: volume name is too short, names should be at least two alphanumeric characters"},
		{"unknown log driver", []string{"--log-driver", "nosuchdriver"}, "Error response from daemon: logger: no log driver named 'nosuchdriver' is registered"},
		{"retries without on-failure", []string{"--restart", "always:3"}, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
		{"unknown restart policy", []string{"--restart", "sometimes"}, "invalid restart policy: unknown policy 'sometimes'"},
		{"container mode without a name", []string{"--network", "container:"}, "Invalid network mode: invalid container format container:<name|id>"},
		{"container mode and hostname", []string{"--network", "container:other", "--hostname", "h"}, "conflicting options: hostname and the network mode"},
		{"container mode and publish", []string{"--network", "container:other", "-p", "80"}, "conflicting options: port publishing and the container type network mode"},
		{"container mode and expose", []string{"--network", "container:other", "--expose", "80"}, "conflicting options: port exposing and the container type network mode"},
		{"container mode and add-host", []string{"--network", "container:other", "--add-host", "db:10.0.0.5"}, "conflicting options: custom host-to-IP mapping and the network mode"},
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				name := unique("invalid")
				rmOnCleanup(t, d, name)
				args := append(append([]string{"run", "--name", name}, tt.args...), "busybox", "true")
				c.run(t, args...).Fails(t, 125, tt.msg)
				c.run(t, "inspect", name).Fails(t, 1, "No such")
			})
		}
	})
}

// TestCreateAPIValidation: what an API client (compose, SDKs) sends is
// checked at create, not accepted and then failed at start or ignored.
func TestCreateAPIValidation(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	tests := []struct {
		name   string
		body   string
		status int
		msg    string
	}{
		{"host port out of range", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}}`, 400, `invalid port specification: "99999"`},
		{"host port not a number", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"abc"}]}}}`, 400, `invalid port specification: "abc"`},
		{"container port not a port", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"PortBindings":{"abc":[{"HostPort":"80"}]}}}`, 400, "invalid port"},
		{"binds accepted", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Binds":["/srv:/srv:ro"]}}`, 201, ""},
		{"relative bind source", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Binds":["rel/dir:/data"]}}`, 400, `create rel/dir: "rel/dir" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		{"duplicate bind target", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Binds":["/srv:/data","/tmp:/data"]}}`, 400, "Duplicate mount point: /data"},
		{"tmpfs mount", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/db"}]}}`, 201, ""},
		{"tmpfs mount with a source", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Mounts":[{"Type":"tmpfs","Source":"x","Target":"/db"}]}}`, 400, `invalid mount config for type "tmpfs": field Source must not be specified`},
		{"bind mount of a missing path", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Mounts":[{"Type":"bind","Source":"/no/such/berth/path","Target":"/db"}]}}`, 400, `invalid mount config for type "bind": bind source path does not exist: /no/such/berth/path`},
		{"relative anonymous volume", `{"Image":"busybox","Cmd":["true"],"Volumes":{"cache":{}}}`, 400, `invalid mount config for type "volume": invalid mount path: 'cache' mount path must be absolute`},
		{"volumes-from an unknown container", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"VolumesFrom":["nosuchberthcontainer"]}}`, 400, "No such container: nosuchberthcontainer"},
		{"unknown log driver", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"LogConfig":{"Type":"foo"}}}`, 400, "logger: no log driver named 'foo' is registered"},
		{"log driver berth lacks", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"LogConfig":{"Type":"syslog"}}}`, 501, `log driver "syslog" is not supported`},
		{"negative retries", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1}}}`, 400, "invalid restart policy: maximum retry count cannot be negative"},
		{"restart and auto-remove", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}`, 400, "conflicting options: cannot specify both --restart and --rm"},
		{"json-file accepted", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"LogConfig":{"Type":"json-file"},"PortBindings":{"80/tcp":[{"HostPort":""}]}}}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := unique("apival")
			rmOnCleanup(t, d, name)
			status, _, body := apiCall(t, d, "POST", "/containers/create?name="+name, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %s", status, tt.status, body)
			}
			if tt.msg != "" && !strings.Contains(errorMessage(t, body), tt.msg) {
				t.Errorf("message %q, want it to contain %q", body, tt.msg)
			}
		})
	}
}

// TestCreateImageVolumes: an image's own VOLUME does not make create fail
// (what the volume holds is TestVolumeImageVolume's).
func TestCreateImageVolumes(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ref := unique("volimage") + ":v1"
	d.Berth(t, "import", "-c", "VOLUME /data", d.BusyboxTar(t), ref).Success(t)
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", ref) })
	if got := d.Berth(t, "image", "inspect", "-f", "{{json .Config.Volumes}}", ref).Success(t).Out(); got != `{"/data":{}}` {
		t.Fatalf("image volumes = %s", got)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		if out := c.ok(t, "run", "--rm", ref, "echo", "ran"); out != "ran" {
			t.Errorf("run of an image with a VOLUME printed %q", out)
		}
	})
}

// TestCreateExecFailures: a command that cannot be found or invoked fails
// the start with docker's message, a 400 and exit codes 127 and 126, which
// the CLIs turn into their own exit status.
func TestCreateExecFailures(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	tests := []struct {
		cmd  string
		code int
		msg  string
	}{
		{"nosuchcmd", 127, `exec: "nosuchcmd": executable file not found in $PATH`},
		{"/no/such", 127, `exec: "/no/such": stat /no/such: no such file or directory`},
		// runc names the command (`exec: "/etc": permission denied`), crun
		// does not (`open executable: operation not permitted: permission
		// denied`): the words docker's CLI reads for 126 are in both
		{"/etc", 126, `permission denied`},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			name := unique("execfail")
			rmOnCleanup(t, d, name)
			status, _, body := apiCall(t, d, "POST", "/containers/create?name="+name, `{"Image":"busybox","Cmd":["`+tt.cmd+`"]}`)
			if status != http.StatusCreated {
				t.Fatalf("create: %d %s", status, body)
			}
			status, _, body = apiCall(t, d, "POST", "/containers/"+name+"/start", "")
			if status != http.StatusBadRequest || !strings.Contains(errorMessage(t, body), tt.msg) {
				t.Errorf("start: %d %s, want 400 with %q", status, body, tt.msg)
			}
			if got, want := inspect(t, d, name, "{{.State.Status}} {{.State.ExitCode}}"), fmt.Sprintf("created %d", tt.code); got != want {
				t.Errorf("state after the failed start = %q, want %q", got, want)
			}
		})
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		c.run(t, "run", "--rm", "busybox", "nosuchcmd").Fails(t, 127, `Error response from daemon: failed to create task for container: `, `exec: "nosuchcmd": executable file not found in $PATH`)
		c.run(t, "run", "--rm", "busybox", "/etc").Fails(t, 126, `permission denied`)
	})
}

// TestNetworkContainerShares: --network container:<x> shares x's hostname,
// /etc/hosts and /etc/resolv.conf, as docker does.
func TestNetworkContainerShares(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	const show = "hostname; echo ==; cat /etc/hosts; echo ==; cat /etc/resolv.conf"
	eachCLI(t, d, func(t *testing.T, c cli) {
		owner := unique("owner")
		rmOnCleanup(t, d, owner)
		c.ok(t, "run", "-d", "--name", owner, "--hostname", "ownerhost", "--add-host", "db.test:10.9.9.9",
			"--dns-search", "corp.test", "busybox", "sh", "-c", show+"; echo END; sleep 300")
		var want string
		waitFor(t, 10*time.Second, "the owner's output", func() bool {
			want = c.run(t, "logs", owner).Stdout
			return strings.Contains(want, "END\n")
		})
		want = strings.TrimSuffix(want, "END\n")
		for _, s := range []string{"ownerhost\n", "10.9.9.9\tdb.test", "search corp.test"} {
			if !strings.Contains(want, s) {
				t.Fatalf("owner's files lack %q:\n%s", s, want)
			}
		}
		got := c.run(t, "run", "--rm", "--network", "container:"+owner, "busybox", "sh", "-c", show).Success(t).Stdout
		if got != want {
			t.Errorf("the joiner sees\n%s\nthe owner sees\n%s", got, want)
		}
		joiner := unique("joiner")
		rmOnCleanup(t, d, joiner)
		c.ok(t, "run", "-d", "--name", joiner, "--network", "container:"+owner, "busybox", "sleep", "300")
		if got, want := inspect(t, d, joiner, "{{.Config.Hostname}} {{.HostsPath}} {{.ResolvConfPath}}"),
			inspect(t, d, owner, "{{.Config.Hostname}} {{.HostsPath}} {{.ResolvConfPath}}"); got != want {
			t.Errorf("joiner's inspect %q, want the owner's %q", got, want)
		}
	})
}
