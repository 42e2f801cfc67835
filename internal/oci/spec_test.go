package oci

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testHost is a fixed hybrid-cgroup host, so golden files do not depend on
// the machine running the tests.
func testHost() *Host {
	return &Host{PingGroupRange: true, UnprivilegedPortStart: true}
}

func baseOptions() Options {
	bind := func(name string) specs.Mount {
		return specs.Mount{Destination: "/etc/" + name, Type: "bind", Source: "/var/lib/berth/containers/" + testID + "/" + name, Options: []string{"rbind", "rprivate"}}
	}
	return Options{
		ID:          testID,
		Rootfs:      "/run/berth/containers/" + testID + "/rootfs",
		Args:        []string{"sh", "-c", "echo hi"},
		Env:         []string{"FOO=bar"},
		Cwd:         "/",
		User:        specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}},
		Hostname:    "0123456789ab",
		HostConfig:  &containertypes.HostConfig{NetworkMode: "none"},
		ExtraMounts: []specs.Mount{bind("resolv.conf"), bind("hostname"), bind("hosts")},
		CgroupsPath: "/berth/" + testID,
		Host:        testHost(),
	}
}

func int64ptr(v int64) *int64 { return &v }

func goldenCases() map[string]func() Options {
	return map[string]func() Options{
		"default": baseOptions,
		"host-network-tty-limits": func() Options {
			o := baseOptions()
			o.NetNSPath = HostNetwork
			o.Terminal = true
			o.Cwd = "/srv"
			o.Domainname = "example.test"
			o.Env = []string{"PATH=/custom/bin", "TERM=vt100", "HOSTNAME"}
			o.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000}}
			o.HostConfig = &containertypes.HostConfig{
				NetworkMode:    "host",
				CapAdd:         []string{"net_admin", "CAP_SYS_TIME", "chown"},
				CapDrop:        []string{"MKNOD"},
				ReadonlyRootfs: true,
				Tmpfs:          map[string]string{"/run": "size=10m,exec", "/run/lock": ""},
				ShmSize:        128 << 20,
				Sysctls:        map[string]string{"kernel.msgmax": "65536"},
				OomScoreAdj:    500,
				Annotations:    map[string]string{"org.example/key": "value"},
				SecurityOpt:    []string{"no-new-privileges", "seccomp=unconfined"},
				GroupAdd:       []string{"1234"},
				Resources: containertypes.Resources{
					Memory:     256 << 20,
					NanoCPUs:   1500000000,
					CPUShares:  512,
					CpusetCpus: "0",
					PidsLimit:  int64ptr(100),
					Ulimits:    []*containertypes.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
				},
			}
			o.Host.Cgroups.SwapLimit = true
			return o
		},
		"privileged-cgroupv2": func() Options {
			o := baseOptions()
			o.HostConfig = &containertypes.HostConfig{NetworkMode: "none", Privileged: true}
			mode := os.FileMode(0o666)
			zero := uint32(0)
			o.Host.CgroupV2 = true
			o.Host.Capabilities = knownCapabilities[:38]
			o.Host.Devices = []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &zero, GID: &zero}}
			return o
		},
		"binds": func() Options {
			o := baseOptions()
			o.HostConfig = &containertypes.HostConfig{
				NetworkMode: "none",
				// /etc is mounted before the generated /etc files bound over it
				Binds: []string{"/srv/data:/data", "/srv/conf:/etc/app:ro", "/srv/etc:/etc:rslave"},
			}
			return o
		},
		"namespaces-capdrop-all": func() Options {
			o := baseOptions()
			o.NetNSPath = "/run/netns/test"
			o.HostConfig = &containertypes.HostConfig{
				NetworkMode:  "bridge",
				CapDrop:      []string{"ALL"},
				CapAdd:       []string{"chown", "setuid"},
				PidMode:      "host",
				IpcMode:      "none",
				UTSMode:      "host",
				CgroupnsMode: "private",
				SecurityOpt:  []string{"no-new-privileges:false"},
			}
			return o
		},
	}
}

// stableJSON renders a spec for comparison. The seccomp filter depends on
// the kernel version and architecture, so only its default action is kept;
// TestDefaultSeccomp checks the rest.
func stableJSON(t *testing.T, s *specs.Spec) []byte {
	t.Helper()
	c := *s
	if s.Linux != nil && s.Linux.Seccomp != nil {
		l := *s.Linux
		l.Seccomp = &specs.LinuxSeccomp{DefaultAction: s.Linux.Seccomp.DefaultAction, DefaultErrnoRet: s.Linux.Seccomp.DefaultErrnoRet}
		c.Linux = &l
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestSpecGolden(t *testing.T) {
	for name, opts := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			s, err := Spec(opts())
			if err != nil {
				t.Fatal(err)
			}
			got := stableJSON(t, s)
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("spec differs from %s (run go test -update if intended):\n%s", path, got)
			}
		})
	}
}

func TestDefaultSeccomp(t *testing.T) {
	s, err := Spec(baseOptions())
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Linux.Seccomp
	if sc == nil || sc.DefaultAction != specs.ActErrno || len(sc.Syscalls) < 10 || len(sc.Architectures) == 0 {
		t.Fatalf("default seccomp profile missing: %+v", sc)
	}
	// docker's documented denials (integration's TestIsolationDockerDefaults
	// calls them in a container): no rule of the default set allows them;
	// CAP_SYS_ADMIN is not in it, so mount(2) and unshare(2) stay denied.
	denied := []string{"unshare", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
		"open_by_handle_at", "mount", "umount2", "pivot_root", "setns", "bpf", "perf_event_open",
		"userfaultfd", "init_module", "finit_module", "delete_module", "acct", "swapon", "swapoff",
		"reboot", "settimeofday", "clock_settime", "ioperm", "iopl", "quotactl", "lookup_dcookie",
		"nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "create_module", "get_kernel_syms", "query_module"}
	for _, sys := range sc.Syscalls {
		for _, name := range denied {
			if sys.Action == specs.ActAllow && slices.Contains(sys.Names, name) {
				t.Errorf("default profile allows %s", name)
			}
		}
		// clone3 fails with ENOSYS, so that libcs fall back to clone, whose
		// flags the profile can filter
		if slices.Contains(sys.Names, "clone3") && (sys.Action != specs.ActErrno || sys.ErrnoRet == nil || *sys.ErrnoRet != 38) {
			t.Errorf("clone3: %+v, want ENOSYS", sys)
		}
	}
	o := baseOptions()
	o.HostConfig.CapAdd = []string{"SYS_ADMIN"}
	s, err = Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sys := range s.Linux.Seccomp.Syscalls {
		if sys.Action == specs.ActAllow && slices.Contains(sys.Names, "mount") {
			found = true
		}
	}
	if !found {
		t.Fatal("profile should allow mount with CAP_SYS_ADMIN")
	}
}

func TestSpecEnv(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		env      []string
		want     []string
	}{
		{"defaults", false, nil, []string{"PATH=" + DefaultPath, "HOSTNAME=h"}},
		{"tty", true, []string{"A=1"}, []string{"PATH=" + DefaultPath, "HOSTNAME=h", "TERM=xterm", "A=1"}},
		{"override in place", false, []string{"A=1", "PATH=/x", "HOSTNAME=other"}, []string{"PATH=/x", "HOSTNAME=other", "A=1"}},
		{"unset", true, []string{"TERM", "B=2", "B=3"}, []string{"PATH=" + DefaultPath, "HOSTNAME=h", "B=3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Env("h", tc.terminal, tc.env); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSpecCapabilities(t *testing.T) {
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		wantErr    string
	}{
		{name: "default", want: DefaultCapabilities()},
		{name: "add with and without prefix", add: []string{"net_admin", "CAP_SYS_TIME"}, want: append(DefaultCapabilities(), "CAP_NET_ADMIN", "CAP_SYS_TIME")},
		{name: "drop", drop: []string{"chown", "CAP_KILL"}, want: slices.DeleteFunc(DefaultCapabilities(), func(c string) bool { return c == "CAP_CHOWN" || c == "CAP_KILL" })},
		{name: "drop all add one", drop: []string{"all"}, add: []string{"chown"}, want: []string{"CAP_CHOWN"}},
		{name: "add all drop one", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"}, want: slices.DeleteFunc(slices.Clone(knownCapabilities), func(c string) bool { return c == "CAP_SYS_ADMIN" })},
		{name: "privileged", privileged: true, drop: []string{"CHOWN"}, want: knownCapabilities},
		{name: "unknown", add: []string{"FLY"}, wantErr: `unknown capability: "CAP_FLY"`},
		{name: "re-add default", add: []string{"CHOWN"}, want: DefaultCapabilities()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := baseOptions()
			o.HostConfig.CapAdd, o.HostConfig.CapDrop, o.HostConfig.Privileged = tc.add, tc.drop, tc.privileged
			s, err := Spec(o)
			if tc.wantErr != "" {
				if !errdefs.IsInvalidArgument(err) || err.Error() != tc.wantErr {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := s.Process.Capabilities
			if !slices.Equal(c.Bounding, tc.want) || !slices.Equal(c.Effective, tc.want) || !slices.Equal(c.Permitted, tc.want) || len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
				t.Errorf("got %+v, want %q", c, tc.want)
			}
		})
	}
	// A kernel that lacks recent capabilities refuses them.
	o := baseOptions()
	o.Host.Capabilities = knownCapabilities[:38]
	o.HostConfig.CapAdd = []string{"BPF"}
	if _, err := Spec(o); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "not supported by your kernel") {
		t.Fatalf("got %v", err)
	}
}

func TestSpecRlimitsOnlyAsked(t *testing.T) {
	s, err := Spec(baseOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Process.Rlimits) != 0 {
		t.Fatalf("rlimits nobody asked for: %v", s.Process.Rlimits)
	}
	o := baseOptions()
	o.HostConfig.Ulimits = []*units.Ulimit{{Name: "nproc", Soft: 10, Hard: 20}}
	if s, err = Spec(o); err != nil {
		t.Fatal(err)
	}
	if want := []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Soft: 10, Hard: 20}}; !slices.Equal(s.Process.Rlimits, want) {
		t.Fatalf("got %v", s.Process.Rlimits)
	}
	o.HostConfig.Ulimits = []*units.Ulimit{{Name: "bogus", Soft: 1, Hard: 1}}
	if _, err := Spec(o); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad ulimit: %v", err)
	}
}

func TestSpecBadOptions(t *testing.T) {
	for name, hc := range map[string]*containertypes.HostConfig{
		"security opt":    {SecurityOpt: []string{"bogus"}},
		"security opt 2":  {SecurityOpt: []string{"foo=bar"}},
		"nnp value":       {SecurityOpt: []string{"no-new-privileges=maybe"}},
		"tmpfs option":    {Tmpfs: map[string]string{"/run": "bogus"}},
		"tmpfs path":      {Tmpfs: map[string]string{"run": ""}},
		"bind target":     {Binds: []string{"/srv:data"}},
		"bind mode":       {Binds: []string{"/srv:/data:rx"}},
		"pid mode":        {PidMode: "container:x"},
		"ipc mode":        {IpcMode: "weird"},
		"cgroupns mode":   {CgroupnsMode: "weird"},
		"negative shares": {Resources: containertypes.Resources{CPUShares: -1}},
		"bad seccomp":     {SecurityOpt: []string{"seccomp={not json"}},
	} {
		t.Run(name, func(t *testing.T) {
			o := baseOptions()
			o.HostConfig = hc
			if _, err := Spec(o); !errdefs.IsInvalidArgument(err) {
				t.Fatalf("got %v, want invalid argument", err)
			}
		})
	}
}

func TestSpecUserMountOverridesDefault(t *testing.T) {
	o := baseOptions()
	o.ExtraMounts = append(o.ExtraMounts, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/somewhere", Options: []string{"rbind"}})
	s, err := Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range s.Mounts {
		if m.Destination == "/dev/shm" {
			n++
			if m.Source != "/somewhere" {
				t.Errorf("default /dev/shm kept: %+v", m)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d /dev/shm mounts", n)
	}
	o = baseOptions()
	o.ExtraMounts = []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}}}
	if s, err = Spec(o); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Mounts {
		if strings.HasPrefix(m.Destination, "/dev/") {
			t.Errorf("default mount under a user /dev kept: %s", m.Destination)
		}
	}
}

func TestMergeTmpfsOptions(t *testing.T) {
	got, err := mergeTmpfsOptions([]string{"noexec", "nosuid", "nodev", "rprivate", "exec", "size=1m", "size=2m", "mode=1777", "shared", "defaults"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nosuid", "nodev", "exec", "size=2m", "mode=1777", "shared"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestSpecRuntimeAdaptations: the version and the unlimited pids limit a
// runtime like crun 1.8 needs; the defaults are the golden specs'.
func TestSpecRuntimeAdaptations(t *testing.T) {
	o := baseOptions()
	zero := int64(0)
	o.HostConfig.PidsLimit = &zero
	s, err := Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != specs.Version || s.Linux.Resources.Pids == nil || *s.Linux.Resources.Pids.Limit != -1 {
		t.Fatalf("default: version %q pids %+v", s.Version, s.Linux.Resources.Pids)
	}
	h := *testHost()
	h.OCIVersion, h.NoUnlimitedPids = "1.0.0", true
	o.Host = &h
	if s, err = Spec(o); err != nil {
		t.Fatal(err)
	}
	if s.Version != "1.0.0" || s.Linux.Resources.Pids != nil {
		t.Fatalf("adapted: version %q pids %+v", s.Version, s.Linux.Resources.Pids)
	}
	ten := int64(10)
	o.HostConfig.PidsLimit = &ten
	if s, err = Spec(o); err != nil {
		t.Fatal(err)
	}
	if s.Linux.Resources.Pids == nil || *s.Linux.Resources.Pids.Limit != 10 {
		t.Fatalf("a real limit is kept: %+v", s.Linux.Resources.Pids)
	}
}
