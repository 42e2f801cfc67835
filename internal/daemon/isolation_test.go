package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/oci"
)

// v1Host is a cgroup v1 host that can enforce every limit.
func v1Host() oci.Host {
	return oci.Host{Cgroups: oci.Cgroups{Mode: oci.CgroupV1, MemoryLimit: true, SwapLimit: true, MemoryReservation: true,
		MemorySwappiness: true, OomKillDisable: true, PidsLimit: true, CPUShares: true, CPUCfs: true, Cpuset: true,
		BlkioWeight: true, Cpus: "0-1", Mems: "0", NCPU: 2}}
}

func TestCreateAdaptsAndVerifiesLimits(t *testing.T) {
	e := newEnv(t)
	e.d.host = v1Host()
	id := e.create(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.Memory = 16 << 20 })
	c, _ := e.d.lookup(id)
	hc := c.HostConfig
	if !slices.Equal(hc.MaskedPaths, oci.DefaultMaskedPaths) || !slices.Equal(hc.ReadonlyPaths, oci.DefaultReadonlyPaths) {
		t.Errorf("stored paths: masked %q read-only %q", hc.MaskedPaths, hc.ReadonlyPaths)
	}
	if hc.MemorySwap != 32<<20 || hc.ShmSize != oci.DefaultShmSize || hc.IpcMode != "private" || hc.CgroupnsMode != "host" || hc.OomKillDisable == nil || *hc.OomKillDisable {
		t.Errorf("stored host config: swap %d shm %d ipc %q cgroupns %q oom-kill-disable %v", hc.MemorySwap, hc.ShmSize, hc.IpcMode, hc.CgroupnsMode, hc.OomKillDisable)
	}

	yes := true
	resp, err := e.d.ContainerCreate(context.Background(), "nolimit", &containertypes.CreateRequest{
		Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"true"}},
		HostConfig: &containertypes.HostConfig{Resources: containertypes.Resources{OomKillDisable: &yes}},
	})
	if err != nil || len(resp.Warnings) != 1 || !strings.HasPrefix(resp.Warnings[0], "OOM killer is disabled for the container") {
		t.Errorf("warnings %q, err %v", resp.Warnings, err)
	}

	for _, tc := range []struct {
		edit func(*containertypes.CreateRequest)
		want string
	}{
		{func(r *containertypes.CreateRequest) { r.HostConfig.Memory = 4 << 20 }, "Minimum memory limit allowed is 6MB"},
		{func(r *containertypes.CreateRequest) { r.HostConfig.NanoCPUs = 3e9 }, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{func(r *containertypes.CreateRequest) { r.HostConfig.CapAdd = []string{"bogus"} }, `invalid CapAdd: unknown capability: "CAP_BOGUS"`},
		{func(r *containertypes.CreateRequest) { r.Config.StopSignal = "SIGNOPE" }, "Invalid signal: SIGNOPE"},
	} {
		req := &containertypes.CreateRequest{Config: &containertypes.Config{Image: "busybox"}, HostConfig: &containertypes.HostConfig{}}
		tc.edit(req)
		_, err := e.d.ContainerCreate(context.Background(), "", req)
		if !errdefs.IsInvalidArgument(err) || err.Error() != tc.want {
			t.Errorf("err %v, want invalid argument %q", err, tc.want)
		}
	}
}

// bundleSpec reads the OCI spec berth wrote for id's last start.
func bundleSpec(t *testing.T, e *env, id string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.d.containerStateDir(id), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestStartJoinsContainerNamespaces(t *testing.T) {
	e := newEnv(t)
	donor := e.run(t, "donor", func(r *containertypes.CreateRequest) { r.HostConfig.IpcMode = "shareable" })
	if !e.mounter.isMounted(e.d.shmDir(donor)) {
		t.Fatal("the shareable /dev/shm is not mounted on the host")
	}
	joiner := e.run(t, "joiner", func(r *containertypes.CreateRequest) {
		r.HostConfig.IpcMode = "container:donor"
		r.HostConfig.PidMode = "container:donor"
	})
	c, _ := e.d.lookup(joiner)
	if c.HostConfig.IpcMode != containertypes.IpcMode("container:"+donor) || c.HostConfig.PidMode != containertypes.PidMode("container:"+donor) {
		t.Errorf("modes recorded as %q %q, want by id", c.HostConfig.IpcMode, c.HostConfig.PidMode)
	}
	d, _ := e.d.lookup(donor)
	pid := d.State.Pid
	s := bundleSpec(t, e, joiner)
	ns := map[specs.LinuxNamespaceType]string{}
	for _, n := range s.Linux.Namespaces {
		ns[n.Type] = n.Path
	}
	if ns[specs.IPCNamespace] != fmt.Sprintf("/proc/%d/ns/ipc", pid) || ns[specs.PIDNamespace] != fmt.Sprintf("/proc/%d/ns/pid", pid) {
		t.Errorf("namespaces %v, want the donor's (pid %d)", ns, pid)
	}
	i := slices.IndexFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev/shm" })
	if i < 0 || s.Mounts[i].Source != e.d.shmDir(donor) {
		t.Errorf("/dev/shm of the joiner: %+v", s.Mounts)
	}

	// docker's refusals: a private donor, a stopped one
	e.run(t, "private", nil)
	err := e.d.ContainerStart(context.Background(), e.create(t, "j2", func(r *containertypes.CreateRequest) { r.HostConfig.IpcMode = "container:private" }), "")
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "non-shareable IPC") {
		t.Errorf("join a private IPC namespace: %v", err)
	}
	stopped := e.create(t, "stopped", nil)
	err = e.d.ContainerStart(context.Background(), e.create(t, "j3", func(r *containertypes.CreateRequest) { r.HostConfig.PidMode = "container:stopped" }), "")
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), stopped) {
		t.Errorf("join a stopped container: %v", err)
	}
	// a container that does not exist: dockerd's 400 at create
	for _, mode := range []func(*containertypes.HostConfig){
		func(hc *containertypes.HostConfig) { hc.PidMode = "container:nosuch" },
		func(hc *containertypes.HostConfig) { hc.IpcMode = "container:nosuch" },
	} {
		req := &containertypes.CreateRequest{Config: &containertypes.Config{Image: "busybox"}, HostConfig: &containertypes.HostConfig{}}
		mode(req.HostConfig)
		_, err := e.d.ContainerCreate(context.Background(), "", req)
		if !errdefs.IsInvalidArgument(err) || err.Error() != "No such container: nosuch" {
			t.Errorf("create --pid/--ipc container:nosuch: %v, want a 400 No such container: nosuch", err)
		}
	}
}

func TestStartWithInit(t *testing.T) {
	e := newEnv(t)
	yes := true
	withInit := func(r *containertypes.CreateRequest) { r.HostConfig.Init = &yes }
	err := e.d.ContainerStart(context.Background(), e.create(t, "noinit", withInit), "")
	if !errdefs.IsNotImplemented(err) {
		t.Errorf("--init without berth-init: %v", err)
	}
	e.d.cfg.InitPath = "/usr/local/bin/berth-init"
	id := e.run(t, "init", withInit)
	if args := bundleSpec(t, e, id).Process.Args; !slices.Equal(args, []string{oci.InitDest, "--", "sleep", "300"}) {
		t.Errorf("args %q", args)
	}
	// the daemon's default, unless the container says otherwise
	e.d.cfg.Init = true
	id = e.run(t, "default", nil)
	if args := bundleSpec(t, e, id).Process.Args; args[0] != oci.InitDest {
		t.Errorf("args with the daemon's init default %q", args)
	}
	no := false
	id = e.run(t, "optout", func(r *containertypes.CreateRequest) { r.HostConfig.Init = &no })
	if args := bundleSpec(t, e, id).Process.Args; args[0] != "sleep" {
		t.Errorf("args with --init=false %q", args)
	}
}

func TestInfoCgroupWarnings(t *testing.T) {
	if w := cgroupWarnings(v1Host().Cgroups); len(w) != 0 {
		t.Errorf("a host with every controller: %q", w)
	}
	w := cgroupWarnings(oci.Cgroups{Mode: oci.CgroupV2, MemoryLimit: true, CPUCfs: true, CPUShares: true, Cpuset: true})
	if !slices.Equal(w, []string{"WARNING: No swap limit support"}) {
		t.Errorf("a v2 host without swap accounting: %q", w)
	}
}
