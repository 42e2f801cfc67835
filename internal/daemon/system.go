package daemon

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/oci"
)

// SystemVersion describes the engine for /version.
func (d *Daemon) SystemVersion(ctx context.Context) (*system.VersionResponse, error) {
	kernel := kernelVersion()
	return &system.VersionResponse{
		Platform: struct{ Name string }{Name: "Berth Engine"},
		Components: []system.ComponentVersion{{
			Name:    "Engine",
			Version: Version,
			Details: map[string]string{
				"ApiVersion": d.cfg.APIVersion, "MinAPIVersion": d.cfg.MinAPI, "Os": runtime.GOOS, "Arch": runtime.GOARCH,
				"KernelVersion": kernel, "GitCommit": GitCommit, "GoVersion": runtime.Version(), "BuildTime": BuildTime, "Experimental": "false",
			},
		}},
		Version:       Version,
		APIVersion:    d.cfg.APIVersion,
		MinAPIVersion: d.cfg.MinAPI,
		GitCommit:     GitCommit,
		GoVersion:     runtime.Version(),
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		KernelVersion: kernel,
		BuildTime:     BuildTime,
	}, nil
}

// SystemInfo describes the host and the engine's contents for /info.
func (d *Daemon) SystemInfo(ctx context.Context) (*system.Info, error) {
	info := &system.Info{
		ID:                 "berth",
		Name:               hostname(),
		ServerVersion:      Version,
		Driver:             "overlay2",
		LoggingDriver:      d.cfg.LogConfig.Type,
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion(d.host),
		KernelVersion:      kernelVersion(),
		OperatingSystem:    operatingSystem(),
		OSType:             runtime.GOOS,
		Architecture:       unameMachine(),
		NCPU:               runtime.NumCPU(),
		DockerRootDir:      d.cfg.DataRoot,
		DefaultRuntime:     filepath.Base(d.cfg.Runtime),
		InitBinary:         initBinary(d.cfg.InitPath),
		Runtimes:           map[string]system.RuntimeWithStatus{filepath.Base(d.cfg.Runtime): {Runtime: system.Runtime{Path: d.cfg.Runtime}}},
		IndexServerAddress: "https://index.docker.io/v1/",
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		MemoryLimit:        d.host.Cgroups.MemoryLimit,
		SwapLimit:          d.host.Cgroups.SwapLimit,
		CPUCfsPeriod:       d.host.Cgroups.CPUCfs,
		CPUCfsQuota:        d.host.Cgroups.CPUCfs,
		CPUShares:          d.host.Cgroups.CPUShares,
		CPUSet:             d.host.Cgroups.Cpuset,
		PidsLimit:          d.host.Cgroups.PidsLimit,
		OomKillDisable:     d.host.Cgroups.OomKillDisable,
		IPv4Forwarding:     true,
		Debug:              d.cfg.Debug,
		NFd:                openFDs(),
		NGoroutines:        runtime.NumGoroutine(),
		NEventsListener:    d.events.Subscribers(),
		// what berth has built in (docker lists its drivers here; clients
		// such as `docker info` and compose read them)
		Plugins: system.PluginsInfo{
			Volume:  []string{"local"},
			Network: []string{"bridge", "host", "null"},
			Log:     []string{logJSONFile, logLocal},
		},
		// berth has no swarm mode: it answers as a docker engine outside one
		Swarm: swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
	}
	info.Warnings = append(info.Warnings, cgroupWarnings(d.host.Cgroups)...)
	info.Warnings = append(info.Warnings, d.cfg.Warnings...)
	if d.cfg.Remap.Enabled() {
		info.SecurityOptions = append(info.SecurityOptions, "name=userns")
	}
	info.MemTotal = memTotal()
	for _, c := range d.containers.List() {
		c.Lock()
		status := c.State.Status
		c.Unlock()
		info.Containers++
		switch status {
		case containertypes.StateRunning:
			info.ContainersRunning++
		case containertypes.StatePaused:
			info.ContainersPaused++
		default:
			info.ContainersStopped++
		}
	}
	if imgs, err := d.images.List(ctx, true, nil); err == nil {
		info.Images = len(imgs)
	}
	return info, nil
}

func kernelVersion() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func unameMachine() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return runtime.GOARCH
	}
	return unix.ByteSliceToString(u.Machine[:])
}

// cgroupVersion is "2" on a pure cgroup v2 host, "1" otherwise (v1 or hybrid).
// cgroupWarnings are docker info's warnings for the limits the host's
// cgroups cannot enforce.
func cgroupWarnings(c oci.Cgroups) []string {
	var w []string
	for _, lack := range []struct {
		missing bool
		what    string
	}{
		{!c.MemoryLimit, "memory limit"},
		{!c.SwapLimit, "swap limit"},
		{!c.OomKillDisable && c.Mode != oci.CgroupV2, "oom kill disable"},
		{!c.CPUCfs, "cpu cfs quota"},
		{!c.CPUCfs, "cpu cfs period"},
		{!c.CPUShares, "cpu shares"},
		{!c.Cpuset, "cpuset"},
	} {
		if lack.missing {
			w = append(w, "WARNING: No "+lack.what+" support")
		}
	}
	return w
}

// cgroupVersion is info's CgroupVersion: "2" on a pure v2 host only; a
// hybrid host's controllers are v1, and docker says "1" there too.
func cgroupVersion(h oci.Host) string {
	if h.CgroupV2 {
		return "2"
	}
	return "1"
}

func operatingSystem() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

// hostname is the host's name, for info.
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// initBinary names the init --init runs, as dockerd's docker-init ("" when
// berth-init is not installed).
func initBinary(initPath string) string {
	if initPath == "" {
		return ""
	}
	return filepath.Base(initPath)
}
