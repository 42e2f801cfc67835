package cli

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

// parseArgs parses run-style arguments (flags, image, command) the way the
// run command does.
func parseArgs(t *testing.T, args ...string) (*containerConfig, error) {
	t.Helper()
	flags := pflag.NewFlagSet("run", pflag.ContinueOnError)
	flags.SetInterspersed(false)
	copts := addContainerFlags(flags)
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	rest := flags.Args()
	if len(rest) == 0 {
		t.Fatal("no image in args")
	}
	return parse(flags, copts, rest[0], rest[1:])
}

func mustParse(t *testing.T, args ...string) *containerConfig {
	t.Helper()
	cfg, err := parseArgs(t, args...)
	if err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return cfg
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestParseContainerFlags(t *testing.T) {
	t.Setenv("BERTH_TEST_FROM_ENV", "fromenv")
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("# comment\n\nA=1\n  B=two words \nBERTH_TEST_FROM_ENV\nBERTH_TEST_UNSET\nC=from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	labelFile := filepath.Join(dir, "labels")
	if err := os.WriteFile(labelFile, []byte("com.example.a=1\nnovalue\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *containerConfig)
	}{
		{"defaults", []string{"busybox"}, func(t *testing.T, c *containerConfig) {
			if c.Config.Image != "busybox" || c.Config.Cmd != nil || c.Config.Entrypoint != nil {
				t.Errorf("image/cmd/entrypoint = %q %q %q", c.Config.Image, c.Config.Cmd, c.Config.Entrypoint)
			}
			if !c.Config.AttachStdout || !c.Config.AttachStderr || c.Config.AttachStdin || c.Config.OpenStdin || c.Config.Tty {
				t.Errorf("attach flags: %+v", c.Config)
			}
			if c.HostConfig.NetworkMode != "default" || c.HostConfig.RestartPolicy.Name != "no" || c.HostConfig.AutoRemove {
				t.Errorf("host config: %+v", c.HostConfig)
			}
			if c.HostConfig.DNS == nil || c.HostConfig.DNSSearch == nil || c.HostConfig.DNSOptions == nil {
				t.Error("DNS lists must be empty, not nil, as docker sends them")
			}
			if c.HostConfig.Init != nil || c.Config.StopTimeout != nil || c.HostConfig.PidsLimit != nil {
				t.Error("unset optional values must stay nil")
			}
			if got := asJSON(c.NetworkingConfig.EndpointsConfig); got != `{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","MacAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}` {
				t.Errorf("endpoints = %s", got)
			}
		}},
		{"command after image keeps its flags", []string{"--rm", "busybox", "sh", "-c", "echo -e hi", "--rm"}, func(t *testing.T, c *containerConfig) {
			if strings.Join(c.Config.Cmd, "|") != "sh|-c|echo -e hi|--rm" || !c.HostConfig.AutoRemove {
				t.Errorf("cmd = %q autoremove = %v", c.Config.Cmd, c.HostConfig.AutoRemove)
			}
		}},
		{"env", []string{"-e", "X=1", "--env", "Y=", "-e", "BERTH_TEST_FROM_ENV", "-e", "BERTH_TEST_UNSET", "busybox"}, func(t *testing.T, c *containerConfig) {
			want := []string{"X=1", "Y=", "BERTH_TEST_FROM_ENV=fromenv", "BERTH_TEST_UNSET"}
			if strings.Join(c.Config.Env, ",") != strings.Join(want, ",") {
				t.Errorf("env = %q, want %q", c.Config.Env, want)
			}
		}},
		{"env-file then -e overrides", []string{"--env-file", envFile, "-e", "C=flag", "busybox"}, func(t *testing.T, c *containerConfig) {
			want := []string{"A=1", "B=two words ", "BERTH_TEST_FROM_ENV=fromenv", "C=from-file", "C=flag"}
			if strings.Join(c.Config.Env, ",") != strings.Join(want, ",") {
				t.Errorf("env = %q, want %q", c.Config.Env, want)
			}
		}},
		{"entrypoint empty resets", []string{"--entrypoint", "", "busybox"}, func(t *testing.T, c *containerConfig) {
			if len(c.Config.Entrypoint) != 1 || c.Config.Entrypoint[0] != "" {
				t.Errorf("entrypoint = %q", c.Config.Entrypoint)
			}
		}},
		{"entrypoint", []string{"--entrypoint=/bin/echo", "busybox", "hi"}, func(t *testing.T, c *containerConfig) {
			if strings.Join(c.Config.Entrypoint, "|") != "/bin/echo" || strings.Join(c.Config.Cmd, "|") != "hi" {
				t.Errorf("entrypoint = %q cmd = %q", c.Config.Entrypoint, c.Config.Cmd)
			}
		}},
		{"user workdir hostname", []string{"-u", "1000:100", "-w", "/tmp", "-h", "box", "--domainname", "example.org", "busybox"}, func(t *testing.T, c *containerConfig) {
			if c.Config.User != "1000:100" || c.Config.WorkingDir != "/tmp" || c.Config.Hostname != "box" || c.Config.Domainname != "example.org" {
				t.Errorf("config = %+v", c.Config)
			}
		}},
		{"labels", []string{"--label-file", labelFile, "-l", "a=b", "--label", "empty=", "-l", "flag", "busybox"}, func(t *testing.T, c *containerConfig) {
			want := map[string]string{"com.example.a": "1", "a": "b", "empty": "", "flag": ""}
			if asJSON(c.Config.Labels) != asJSON(want) {
				t.Errorf("labels = %v, want %v", c.Config.Labels, want)
			}
		}},
		{"network none", []string{"--network", "none", "busybox"}, func(t *testing.T, c *containerConfig) {
			if c.HostConfig.NetworkMode != "none" || len(c.NetworkingConfig.EndpointsConfig) != 0 {
				t.Errorf("mode = %q endpoints = %v", c.HostConfig.NetworkMode, c.NetworkingConfig.EndpointsConfig)
			}
		}},
		{"net host alias", []string{"--net=host", "busybox"}, func(t *testing.T, c *containerConfig) {
			if c.HostConfig.NetworkMode != "host" {
				t.Errorf("mode = %q", c.HostConfig.NetworkMode)
			}
		}},
		{"user network with alias", []string{"--network", "mynet", "--network-alias", "web", "busybox"}, func(t *testing.T, c *containerConfig) {
			ep := c.NetworkingConfig.EndpointsConfig["mynet"]
			if c.HostConfig.NetworkMode != "mynet" || ep == nil || strings.Join(ep.Aliases, ",") != "web" {
				t.Errorf("mode = %q endpoints = %v", c.HostConfig.NetworkMode, c.NetworkingConfig.EndpointsConfig)
			}
		}},
		{"publish", []string{"-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-p", "9000", "--expose", "7000-7001", "busybox"}, func(t *testing.T, c *containerConfig) {
			wantPorts := []string{"80/tcp", "53/udp", "9000/tcp", "7000/tcp", "7001/tcp"}
			for _, p := range wantPorts {
				if _, ok := c.Config.ExposedPorts[network.MustParsePort(p)]; !ok {
					t.Errorf("port %s not exposed: %v", p, c.Config.ExposedPorts)
				}
			}
			b := c.HostConfig.PortBindings
			if got := b[network.MustParsePort("80/tcp")]; len(got) != 1 || got[0].HostPort != "8080" || got[0].HostIP.IsValid() {
				t.Errorf("80/tcp bindings = %+v", got)
			}
			if got := b[network.MustParsePort("53/udp")]; len(got) != 1 || got[0].HostPort != "5353" || got[0].HostIP != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("53/udp bindings = %+v", got)
			}
			if got := b[network.MustParsePort("9000/tcp")]; len(got) != 1 || got[0].HostPort != "" {
				t.Errorf("9000/tcp bindings = %+v", got)
			}
		}},
		{"volumes", []string{"-v", "/data", "-v", "/host:/ctr:ro", "-v", "named:/var/lib/x", "busybox"}, func(t *testing.T, c *containerConfig) {
			if _, ok := c.Config.Volumes["/data"]; !ok || len(c.Config.Volumes) != 1 {
				t.Errorf("volumes = %v", c.Config.Volumes)
			}
			if strings.Join(c.HostConfig.Binds, ",") != "/host:/ctr:ro,named:/var/lib/x" {
				t.Errorf("binds = %q", c.HostConfig.Binds)
			}
		}},
		{"relative bind made absolute", []string{"-v", "./here:/ctr", "busybox"}, func(t *testing.T, c *containerConfig) {
			wd, _ := os.Getwd()
			if len(c.HostConfig.Binds) != 1 || c.HostConfig.Binds[0] != filepath.Join(wd, "here")+":/ctr" {
				t.Errorf("binds = %q", c.HostConfig.Binds)
			}
		}},
		{"interactive tty", []string{"-it", "busybox", "sh"}, func(t *testing.T, c *containerConfig) {
			if !c.Config.Tty || !c.Config.OpenStdin || !c.Config.AttachStdin || !c.Config.StdinOnce {
				t.Errorf("config = %+v", c.Config)
			}
		}},
		{"attach stdin only", []string{"-a", "STDIN", "busybox"}, func(t *testing.T, c *containerConfig) {
			if !c.Config.AttachStdin || c.Config.AttachStdout || c.Config.AttachStderr {
				t.Errorf("config = %+v", c.Config)
			}
		}},
		{"resources and security", []string{"-m", "64m", "--cpus", "1.5", "--pids-limit", "100", "--ulimit", "nofile=1024:2048",
			"--cap-add", "NET_ADMIN", "--cap-drop", "ALL", "--privileged", "--read-only", "--security-opt", "no-new-privileges",
			"--group-add", "audio", "--tmpfs", "/run:size=1m", "--init", "--stop-signal", "SIGUSR1", "--stop-timeout", "3",
			"--restart", "on-failure:5", "busybox"}, func(t *testing.T, c *containerConfig) {
			h := c.HostConfig
			if h.Memory != 64<<20 || h.NanoCPUs != 1_500_000_000 || h.PidsLimit == nil || *h.PidsLimit != 100 {
				t.Errorf("resources = %+v", h.Resources)
			}
			if len(h.Ulimits) != 1 || h.Ulimits[0].Name != "nofile" || h.Ulimits[0].Soft != 1024 || h.Ulimits[0].Hard != 2048 {
				t.Errorf("ulimits = %+v", h.Ulimits)
			}
			if asJSON(h.CapAdd) != `["NET_ADMIN"]` || asJSON(h.CapDrop) != `["ALL"]` || !h.Privileged || !h.ReadonlyRootfs {
				t.Errorf("caps = %v %v", h.CapAdd, h.CapDrop)
			}
			if asJSON(h.SecurityOpt) != `["no-new-privileges"]` || asJSON(h.GroupAdd) != `["audio"]` || h.Tmpfs["/run"] != "size=1m" {
				t.Errorf("security %v groups %v tmpfs %v", h.SecurityOpt, h.GroupAdd, h.Tmpfs)
			}
			if h.Init == nil || !*h.Init || c.Config.StopSignal != "SIGUSR1" || c.Config.StopTimeout == nil || *c.Config.StopTimeout != 3 {
				t.Errorf("init/stop: %v %q %v", h.Init, c.Config.StopSignal, c.Config.StopTimeout)
			}
			if h.RestartPolicy != (container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}) {
				t.Errorf("restart = %+v", h.RestartPolicy)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, tt.args...))
		})
	}
}

func TestParseContainerFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--rm", "--restart", "always", "busybox"}, "conflicting options: cannot specify both --restart and --rm"},
		{[]string{"-a", "stdio", "busybox"}, "valid streams are STDIN, STDOUT and STDERR"},
		{[]string{"-p", "abc", "busybox"}, "invalid"},
		{[]string{"-v", "a:b:c:d", "busybox"}, "invalid spec: a:b:c:d: too many colons"},
		{[]string{"--restart", "on-failure:x", "busybox"}, "maximum retry count must be an integer"},
		{[]string{"-e", "=x", "busybox"}, "invalid environment variable: =x"},
		{[]string{"--cpus", "0.0000000001", "busybox"}, "value is too precise"},
		{[]string{"-m", "lots", "busybox"}, "invalid size"},
		{[]string{"--env-file", "/nonexistent/env", "busybox"}, "no such file or directory"},
		{[]string{"--network", "host", "--network-alias", "x", "busybox"}, "network-scoped aliases are only supported for user-defined networks"},
		{[]string{"--dns", "not-an-ip", "busybox"}, "IP address is not correctly formatted: not-an-ip"},
		{[]string{"--sysctl", "kernel.panic=1", "busybox"}, "sysctl 'kernel.panic=1' is not allowed"},
		{[]string{"--sysctl", "net.ipv4.ip_forward", "busybox"}, "sysctl 'net.ipv4.ip_forward' is not allowed"},
		{[]string{"--device-cgroup-rule", "c 1:3", "busybox"}, "invalid device cgroup format 'c 1:3'"},
		{[]string{"--memory-swappiness", "101", "busybox"}, "invalid value: 101. Valid memory swappiness range is 0-100"},
		{[]string{"--blkio-weight", "70000", "busybox"}, "value out of range"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseArgs(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestEnvFileSyntaxErrors(t *testing.T) {
	for _, content := range []string{"BAD KEY=1\n", "=novar\n"} {
		if _, err := parseKVFile([]byte(content), nil); err == nil {
			t.Errorf("parseKVFile(%q) succeeded", content)
		}
	}
}

func TestParseLimitAndIsolationFlags(t *testing.T) {
	c := mustParse(t, "--oom-kill-disable", "--blkio-weight", "300", "--memory-swappiness", "0", "--cpuset-mems", "0",
		"--device-cgroup-rule", "c 10:* rw", "--sysctl", "kernel.shmmax=1", "--sysctl", "fs.mqueue.msg_max=5",
		"--security-opt", "systempaths=unconfined", "--security-opt", "no-new-privileges", "--init", "busybox")
	r := c.HostConfig.Resources
	if r.OomKillDisable == nil || !*r.OomKillDisable || r.BlkioWeight != 300 || r.MemorySwappiness == nil || *r.MemorySwappiness != 0 ||
		r.CpusetMems != "0" || len(r.DeviceCgroupRules) != 1 || r.DeviceCgroupRules[0] != "c 10:* rw" {
		t.Errorf("resources %+v", r)
	}
	hc := c.HostConfig
	if len(hc.Sysctls) != 2 || hc.Init == nil || !*hc.Init {
		t.Errorf("sysctls %v init %v", hc.Sysctls, hc.Init)
	}
	// docker's CLI turns systempaths=unconfined into empty path lists
	if len(hc.SecurityOpt) != 1 || hc.SecurityOpt[0] != "no-new-privileges" || hc.MaskedPaths == nil || len(hc.MaskedPaths) != 0 || hc.ReadonlyPaths == nil {
		t.Errorf("security opts %q masked %v readonly %v", hc.SecurityOpt, hc.MaskedPaths, hc.ReadonlyPaths)
	}
	// unset: docker sends OomKillDisable false and swappiness -1
	d := mustParse(t, "busybox").HostConfig.Resources
	if d.OomKillDisable == nil || *d.OomKillDisable || d.MemorySwappiness == nil || *d.MemorySwappiness != -1 || mustParse(t, "busybox").HostConfig.MaskedPaths != nil {
		t.Errorf("defaults %+v", d)
	}
}
