// Package oci turns a container's configuration into an OCI runtime spec
// (the bundle's config.json) carrying Docker's defaults: namespaces, the
// default capability set, masked and read-only paths, default mounts and
// device rules, the default seccomp profile. It also resolves users against
// an image's /etc/passwd and /etc/group (the generated /etc files are
// internal/etcfiles').
//
// VerifyResources and VerifyIsolation check a HostConfig with docker's rules
// and messages against what the host supports (Host.Cgroups, detected on
// cgroup v1, hybrid and v2 hosts alike).
//
// Spec reads nothing from the host except through Host, which callers may
// pass explicitly (tests do) or leave nil to have it detected.
package oci

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HostNetwork is the NetNSPath value that shares the host's network namespace.
const HostNetwork = "host"

// Options describes one container to Spec.
type Options struct {
	ID       string
	Rootfs   string // absolute path of the mounted rootfs
	Args     []string
	Env      []string // the container's Config.Env; PATH, HOSTNAME and TERM are added as docker does
	Cwd      string
	User     specs.User // from ResolveUser
	Terminal bool
	Hostname string
	// Domainname is the container's NIS domain name (Config.Domainname).
	Domainname string

	HostConfig *containertypes.HostConfig

	// NetNSPath is "" for a new network namespace, HostNetwork to share the
	// host's, or the path of an existing namespace to join.
	NetNSPath string

	// ExtraMounts are added after the default mounts and replace any default
	// mount with the same destination: the daemon's /etc/hostname, /etc/hosts
	// and /etc/resolv.conf binds, volumes.
	ExtraMounts []specs.Mount
	// VolumePaths are the host folders of the volumes HostConfig.Binds
	// names, by volume name.
	VolumePaths map[string]string
	// VolumesFromMounts are the mounts taken from other containers with
	// --volumes-from; the container's own mounts win at the same target.
	VolumesFromMounts []mount.Mount
	// SourcePropagation reports the host mount holding a bind's source and
	// whether it is shared or a slave (volume.SourcePropagation); nil
	// skips docker's checks of shared and slave binds.
	SourcePropagation func(path string) (mountpoint string, shared, slave bool, err error)

	// IpcNSPath and PidNSPath are the namespaces of the container that
	// --ipc and --pid container:<x> join (/proc/<pid>/ns/...). ShmPath is
	// the host folder bound at /dev/shm of a container with a shareable IPC
	// namespace, or of one that joins it.
	IpcNSPath, PidNSPath, ShmPath string

	// InitPath is berth-init on the host, for --init: it is bound read-only
	// at InitDest and runs the process as `docker-init -- <args>`. "" runs
	// the process as pid 1 itself.
	InitPath string

	// CgroupsPath is the container's cgroup, e.g. "/berth/<id>" (cgroupfs driver).
	CgroupsPath string

	// NoNewPrivileges is the daemon's default (dockerd's
	// --no-new-privileges), which HostConfig.SecurityOpt may override.
	NoNewPrivileges bool

	// Host describes the host's kernel; nil means DetectHost. A
	// privileged container gets HostDevices when Host has no Devices.
	Host *Host
}

// InitDest is where docker puts its init in the container.
const InitDest = "/sbin/docker-init"

// Host is what Spec needs to know about the host's kernel.
type Host struct {
	// CgroupV2 is true on a pure cgroup v2 (unified) host, where docker gives
	// containers a private cgroup namespace by default.
	CgroupV2 bool
	// Cgroups says which resource controllers the host offers, as docker's
	// sysinfo does; VerifyResources discards (with a warning) what it lacks.
	Cgroups Cgroups
	// Capabilities are those the kernel knows and berth's own bounding set
	// holds, in capability number order: what "ALL" and privileged mean.
	// Nil means every capability berth knows.
	Capabilities []string
	// PingGroupRange and UnprivilegedPortStart report whether the kernel has
	// the net.ipv4 sysctls docker sets in private network namespaces.
	PingGroupRange        bool
	UnprivilegedPortStart bool
	// Devices are the host's device nodes, given to privileged containers.
	Devices []specs.LinuxDevice
	// OomScoreAdjFloor is the lowest oom_score_adj the runtime may give a
	// container when the host forbids lowering it (berth lacks
	// CAP_SYS_RESOURCE): berth's own score. Nil when any value is allowed.
	OomScoreAdjFloor *int
}

// Spec returns the runtime spec for o.
func Spec(o Options) (*specs.Spec, error) {
	hc := o.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	host, err := hostFor(o.Host, hc.Privileged)
	if err != nil {
		return nil, err
	}
	sec, err := parseSecurityOpts(hc.SecurityOpt, o.NoNewPrivileges)
	if err != nil {
		return nil, err
	}

	oomScoreAdj, _ := OomScoreAdj(hc.OomScoreAdj, host)
	args := o.Args
	if o.InitPath != "" {
		args = append([]string{InitDest, "--"}, o.Args...)
		o.ExtraMounts = append(slices.Clone(o.ExtraMounts), specs.Mount{Destination: InitDest, Type: "bind", Source: o.InitPath, Options: []string{"bind", "ro"}})
	}
	if (hc.IpcMode.IsContainer() || hc.IpcMode.IsShareable()) && o.ShmPath != "" {
		o.ExtraMounts = append(slices.Clone(o.ExtraMounts), specs.Mount{Destination: "/dev/shm", Type: "bind", Source: o.ShmPath, Options: []string{"rbind", "nosuid", "noexec", "nodev"}})
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: o.Hostname,
		Root:     &specs.Root{Path: o.Rootfs, Readonly: hc.ReadonlyRootfs},
		Process: &specs.Process{
			Terminal:        o.Terminal,
			User:            o.User,
			Args:            args,
			Env:             Env(o.Hostname, o.Terminal, o.Env),
			Cwd:             o.Cwd,
			NoNewPrivileges: sec.noNewPrivileges,
			OOMScoreAdj:     &oomScoreAdj,
		},
		Linux: &specs.Linux{
			CgroupsPath:   o.CgroupsPath,
			Sysctl:        map[string]string{},
			MaskedPaths:   slices.Clone(DefaultMaskedPaths),
			ReadonlyPaths: slices.Clone(DefaultReadonlyPaths),
		},
	}
	if len(hc.Annotations) > 0 {
		s.Annotations = maps.Clone(hc.Annotations)
	}
	if s.Process.Cwd == "" {
		s.Process.Cwd = "/"
	}
	if hc.Umask != nil {
		umask := *hc.Umask
		s.Process.User.Umask = &umask
	}
	steps := []func(*specs.Spec, *containertypes.HostConfig, *Options, *Host) error{
		setNamespaces,
		setCapabilities,
		setGroups,
		setRlimits,
		setSysctls,
		setResources,
		setDevices,
		setMounts,
		setPaths,
	}
	for _, step := range steps {
		if err := step(s, hc, &o, host); err != nil {
			return nil, err
		}
	}
	// Seccomp is derived last: which syscalls it allows depends on the
	// capabilities just computed.
	if !hc.Privileged && sec.seccomp != "unconfined" {
		if s.Linux.Seccomp, err = seccompProfile(s, sec.seccomp); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// hostFor is h, detected when nil; a privileged container also gets the
// host's devices, listed now when h does not hold them (they change, unlike
// the rest of Host, which a daemon detects once).
func hostFor(h *Host, privileged bool) (*Host, error) {
	var host Host
	if h != nil {
		host = *h
	} else {
		host = DetectHost()
	}
	if privileged && host.Devices == nil {
		devs, err := HostDevices()
		if err != nil {
			return nil, fmt.Errorf("list host devices: %w", err)
		}
		host.Devices = devs
	}
	return &host, nil
}

// setNamespaces gives the container docker's namespaces: mount, network
// (unless shared with the host), uts, pid, ipc, and cgroup where docker
// would (private mode, the default on pure cgroup v2 hosts).
func setNamespaces(s *specs.Spec, hc *containertypes.HostConfig, o *Options, h *Host) error {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	switch o.NetNSPath {
	case "":
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	case HostNetwork:
	default:
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: o.NetNSPath})
	}
	switch {
	case hc.UTSMode.IsHost():
		s.Hostname = ""
	case hc.UTSMode == "" || hc.UTSMode.IsPrivate():
		ns = append(ns, specs.LinuxNamespace{Type: specs.UTSNamespace})
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid UTS mode: %v", hc.UTSMode))
	}
	switch {
	case hc.PidMode.IsHost():
	case hc.PidMode == "":
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	case hc.PidMode.IsContainer() && o.PidNSPath != "":
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: o.PidNSPath})
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid PID mode: %v", hc.PidMode))
	}
	switch {
	case hc.IpcMode.IsHost():
	case hc.IpcMode.IsEmpty(), hc.IpcMode.IsPrivate(), hc.IpcMode.IsShareable(), hc.IpcMode.IsNone():
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace})
	case hc.IpcMode.IsContainer() && o.IpcNSPath != "":
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: o.IpcNSPath})
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid IPC mode: %v", hc.IpcMode))
	}
	switch {
	case hc.CgroupnsMode.IsPrivate(), hc.CgroupnsMode.IsEmpty() && h.CgroupV2:
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	case hc.CgroupnsMode.IsHost(), hc.CgroupnsMode.IsEmpty():
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid cgroup namespace mode: %v", hc.CgroupnsMode))
	}
	s.Linux.Namespaces = ns
	return nil
}

// setCapabilities applies CapAdd/CapDrop/Privileged to docker's default
// set. As in docker 25+, the inheritable set stays empty.
func setCapabilities(s *specs.Spec, hc *containertypes.HostConfig, _ *Options, h *Host) error {
	caps, err := tweakCapabilities(DefaultCapabilities(), hc.CapAdd, hc.CapDrop, hc.Privileged, h.Capabilities)
	if err != nil {
		return err
	}
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: slices.Clone(caps),
		Permitted: slices.Clone(caps),
	}
	return nil
}

// setGroups adds HostConfig.GroupAdd to the supplementary groups, resolving
// names in the image's /etc/group.
func setGroups(s *specs.Spec, hc *containertypes.HostConfig, o *Options, _ *Host) error {
	if len(hc.GroupAdd) == 0 {
		return nil
	}
	gids, err := additionalGroups(o.Rootfs, hc.GroupAdd)
	if err != nil {
		return err
	}
	s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, gids...)
	return nil
}

// setRlimits sets exactly the ulimits asked for: the runtime leaves every
// other limit as the process inherits it.
func setRlimits(s *specs.Spec, hc *containertypes.HostConfig, _ *Options, _ *Host) error {
	for _, u := range hc.Ulimits {
		if u == nil {
			continue
		}
		name, err := rlimitType(u.Name)
		if err != nil {
			return err
		}
		if u.Soft < 0 || u.Hard < 0 || u.Soft > u.Hard {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard))
		}
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: name, Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	return nil
}

// setSysctls adds docker's two defaults for containers with their own
// network namespace, the NIS domain name (the spec has no field for it, but
// this sysctl does what setdomainname(2) does), then the requested sysctls.
func setSysctls(s *specs.Spec, hc *containertypes.HostConfig, o *Options, h *Host) error {
	if o.Domainname != "" && !hc.UTSMode.IsHost() {
		s.Linux.Sysctl["kernel.domainname"] = o.Domainname
	}
	if o.NetNSPath != HostNetwork {
		if h.PingGroupRange {
			// unprivileged ICMP echo sockets, so ping works without CAP_NET_RAW
			s.Linux.Sysctl["net.ipv4.ping_group_range"] = "0 2147483647"
		}
		if h.UnprivilegedPortStart {
			s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] = "0"
		}
	}
	maps.Copy(s.Linux.Sysctl, hc.Sysctls)
	return nil
}

// setPaths applies masked and read-only paths: docker's defaults, those of
// the HostConfig when it sets them, none for privileged containers.
func setPaths(s *specs.Spec, hc *containertypes.HostConfig, _ *Options, _ *Host) error {
	if hc.MaskedPaths != nil {
		s.Linux.MaskedPaths = slices.Clone(hc.MaskedPaths)
	}
	if hc.ReadonlyPaths != nil {
		s.Linux.ReadonlyPaths = slices.Clone(hc.ReadonlyPaths)
	}
	if hc.Privileged {
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
	}
	return nil
}

// rlimitNames are the ulimit names docker accepts.
var rlimitNames = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

func rlimitType(name string) (string, error) {
	if !slices.Contains(rlimitNames, name) {
		return "", errdefs.ErrInvalidArgument.WithMessage("invalid ulimit type: " + name)
	}
	return "RLIMIT_" + strings.ToUpper(name), nil
}

// int64p returns a pointer to v.
func int64p(v int64) *int64 { return &v }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
