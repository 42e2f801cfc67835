package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docker/go-connections/nat"
	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"
)

// containerOptions holds the flags shared by run and create, before they are
// turned into the API's Config, HostConfig and NetworkingConfig by parse.
type containerOptions struct {
	attach, env, envFile, labels, labelFile            listOpt
	publish, expose, volumes, tmpfs, ulimits           listOpt
	capAdd, capDrop, groupAdd, securityOpt, dns        listOpt
	dnsSearch, dnsOptions, extraHosts, logOpts         listOpt
	links, mounts                                      listOpt
	networks, aliases, sysctls, annotations, devices   listOpt
	deviceCgroupRules                                  listOpt
	entrypoint, hostname, domainname, user, workdir    string
	restart, stopSignal, logDriver, cidfile, runtime   string
	pidMode, ipcMode, utsMode, usernsMode, cgroupnsMod string
	cgroupParent, cpusetCpus, ipv4, ipv6, healthCmd    string
	cpusetMems                                         string
	macAddress                                         string
	stdin, tty, autoRemove, privileged, readOnly, init bool
	publishAll, noHealthcheck, oomKillDisable          bool
	blkioWeight                                        uint16
	swappiness                                         int64
	stopTimeout, oomScoreAdj, healthRetries            int
	cpuShares, cpuPeriod, cpuQuota, pidsLimit          int64
	memory, memorySwap, memoryReservation, shmSize     memBytes
	cpus                                               nanoCPUs
	healthInterval, healthTimeout, healthStartPeriod   time.Duration
	healthStartInterval                                time.Duration
}

// addContainerFlags registers docker's container flags (run and create).
func addContainerFlags(flags *pflag.FlagSet) *containerOptions {
	o := &containerOptions{}
	o.attach.validate = validateAttach
	o.env.validate = validateEnv
	o.labels.validate = validateLabel
	o.extraHosts.validate = validateExtraHost
	o.dns.validate = validateIP
	o.sysctls.validate = validateSysctl
	o.deviceCgroupRules.validate = validateDeviceCgroupRule

	flags.VarP(&o.attach, "attach", "a", "Attach to STDIN, STDOUT or STDERR")
	flags.VarP(&o.env, "env", "e", "Set environment variables")
	flags.Var(&o.envFile, "env-file", "Read in a file of environment variables")
	flags.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	flags.Var(&o.groupAdd, "group-add", "Add additional groups to join")
	flags.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	flags.StringVar(&o.domainname, "domainname", "", "Container NIS domain name")
	flags.BoolVarP(&o.stdin, "interactive", "i", false, "Keep STDIN open even if not attached")
	flags.VarP(&o.labels, "label", "l", "Set meta data on a container")
	flags.Var(&o.labelFile, "label-file", "Read in a line delimited file of labels")
	flags.BoolVar(&o.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	flags.StringVar(&o.restart, "restart", string(container.RestartPolicyDisabled), "Restart policy to apply when a container exits")
	flags.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	flags.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	flags.Var(&o.sysctls, "sysctl", "Sysctl options")
	flags.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	flags.Var(&o.ulimits, "ulimit", "Ulimit options")
	flags.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	flags.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	flags.BoolVar(&o.autoRemove, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	flags.Var(&o.capAdd, "cap-add", "Add Linux capabilities")
	flags.Var(&o.capDrop, "cap-drop", "Drop Linux capabilities")
	flags.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to this container")
	flags.Var(&o.securityOpt, "security-opt", "Security Options")
	flags.StringVar(&o.usernsMode, "userns", "", "User namespace to use")
	flags.StringVar(&o.cgroupnsMod, "cgroupns", "", "Cgroup namespace to use (host|private)")
	flags.Var(&o.extraHosts, "add-host", "Add a custom host-to-IP mapping (host:ip)")
	flags.Var(&o.links, "link", "Add link to another container")
	flags.Var(&o.dns, "dns", "Set custom DNS servers")
	flags.Var(&o.dnsOptions, "dns-option", "Set DNS options")
	flags.Var(&o.dnsOptions, "dns-opt", "Set DNS options")
	_ = flags.MarkHidden("dns-opt")
	flags.Var(&o.dnsSearch, "dns-search", "Set custom DNS search domains")
	flags.Var(&o.expose, "expose", "Expose a port or a range of ports")
	flags.StringVar(&o.ipv4, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	flags.StringVar(&o.ipv6, "ip6", "", "IPv6 address (e.g., 2001:db8::33)")
	flags.StringVar(&o.macAddress, "mac-address", "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
	flags.VarP(&o.publish, "publish", "p", "Publish a container's port(s) to the host")
	flags.BoolVarP(&o.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	flags.Var(&o.networks, "network", "Connect a container to a network")
	flags.Var(&o.networks, "net", "Connect a container to a network")
	_ = flags.MarkHidden("net")
	flags.Var(&o.aliases, "network-alias", "Add network-scoped alias for the container")
	flags.Var(&o.aliases, "net-alias", "Add network-scoped alias for the container")
	_ = flags.MarkHidden("net-alias")
	flags.StringVar(&o.logDriver, "log-driver", "", "Logging driver for the container")
	flags.Var(&o.logOpts, "log-opt", "Log driver options")
	flags.Var(&o.tmpfs, "tmpfs", "Mount a tmpfs directory")
	flags.Var(&o.mounts, "mount", "Attach a filesystem mount to the container")
	flags.VarP(&o.volumes, "volume", "v", "Bind mount a volume")
	flags.Var(&o.devices, "device", "Add a host device to the container")
	flags.Var(&o.deviceCgroupRules, "device-cgroup-rule", "Add a rule to the cgroup allowed devices list")
	flags.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	flags.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	flags.BoolVar(&o.oomKillDisable, "oom-kill-disable", false, "Disable OOM Killer")
	flags.Int64Var(&o.swappiness, "memory-swappiness", -1, "Tune container memory swappiness (0 to 100)")
	flags.StringVar(&o.healthCmd, "health-cmd", "", "Command to run to check health")
	flags.DurationVar(&o.healthInterval, "health-interval", 0, "Time between running the check (ms|s|m|h) (default 0s)")
	flags.IntVar(&o.healthRetries, "health-retries", 0, "Consecutive failures needed to report unhealthy")
	flags.DurationVar(&o.healthTimeout, "health-timeout", 0, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthStartPeriod, "health-start-period", 0, "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthStartInterval, "health-start-interval", 0, "Time between running the check during the start period (ms|s|m|h) (default 0s)")
	flags.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "Disable any container-specified HEALTHCHECK")
	flags.StringVar(&o.cidfile, "cidfile", "", "Write the container ID to the file")
	flags.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	flags.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	flags.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	flags.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	flags.Var(&o.cpus, "cpus", "Number of CPUs")
	flags.VarP(&o.memory, "memory", "m", "Memory limit")
	flags.Var(&o.memoryReservation, "memory-reservation", "Memory soft limit")
	flags.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	flags.IntVar(&o.oomScoreAdj, "oom-score-adj", 0, "Tune host's OOM preferences (-1000 to 1000)")
	flags.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	flags.StringVar(&o.cgroupParent, "cgroup-parent", "", "Optional parent cgroup for the container")
	flags.StringVar(&o.ipcMode, "ipc", "", "IPC mode to use")
	flags.StringVar(&o.pidMode, "pid", "", "PID namespace to use")
	flags.Var(&o.shmSize, "shm-size", "Size of /dev/shm")
	flags.StringVar(&o.utsMode, "uts", "", "UTS namespace to use")
	flags.StringVar(&o.runtime, "runtime", "", "Runtime to use for this container")
	flags.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	flags.Var(&o.annotations, "annotation", "Add an annotation to the container (passed through to the OCI runtime)")
	return o
}

// containerConfig is the parsed form of containerOptions: the create request.
type containerConfig struct {
	Config           *container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
}

// parse turns the flags and the positional image/command into a create
// request, with docker's defaults and validation messages.
func parse(flags *pflag.FlagSet, o *containerOptions, image string, args []string) (*containerConfig, error) {
	attachStdin, attachStdout, attachStderr := o.attach.has("stdin"), o.attach.has("stdout"), o.attach.has("stderr")
	if o.stdin {
		attachStdin = true
	}
	if len(o.attach.values) == 0 {
		attachStdout, attachStderr = true, true
	}

	volumes, binds, err := parseVolumes(o.volumes.values)
	if err != nil {
		return nil, err
	}
	mounts, err := parseMounts(o.mounts.values)
	if err != nil {
		return nil, err
	}
	tmpfs := map[string]string{}
	for _, t := range o.tmpfs.values {
		k, v, _ := strings.Cut(t, ":")
		tmpfs[k] = v
	}

	var entrypoint []string
	if o.entrypoint != "" {
		entrypoint = []string{o.entrypoint}
	} else if flags.Changed("entrypoint") {
		// --entrypoint="" resets the image's entrypoint.
		entrypoint = []string{""}
	}

	var cmd []string
	if len(args) > 0 {
		cmd = args
	}
	ports, bindings, err := parsePorts(o.publish.values, o.expose.values)
	if err != nil {
		return nil, err
	}
	env, err := readKVFiles(o.envFile.values, o.env.values, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	labels, err := readKVFiles(o.labelFile.values, o.labels.values, nil)
	if err != nil {
		return nil, err
	}
	restart, err := parseRestartPolicy(o.restart)
	if err != nil {
		return nil, err
	}
	if o.autoRemove && !restart.IsNone() {
		return nil, fmt.Errorf("conflicting options: cannot specify both --restart and --rm")
	}
	securityOpts, err := parseSecurityOpts(o.securityOpt.values)
	if err != nil {
		return nil, err
	}
	securityOpts, maskedPaths, readonlyPaths := parseSystemPaths(securityOpts)
	if o.swappiness != -1 && (o.swappiness < 0 || o.swappiness > 100) {
		return nil, fmt.Errorf("invalid value: %d. Valid memory swappiness range is 0-100", o.swappiness)
	}
	ulimits, err := parseUlimits(o.ulimits.values)
	if err != nil {
		return nil, err
	}
	devices, err := parseDevices(o.devices.values)
	if err != nil {
		return nil, err
	}
	health, err := o.healthConfig()
	if err != nil {
		return nil, err
	}
	endpoints, err := o.endpoints()
	if err != nil {
		return nil, err
	}
	dns := make([]netip.Addr, 0, len(o.dns.values))
	for _, v := range o.dns.values {
		addr, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("IP address is not correctly formatted: %s", v)
		}
		dns = append(dns, addr)
	}

	config := &container.Config{
		Hostname:     o.hostname,
		Domainname:   o.domainname,
		ExposedPorts: ports,
		User:         o.user,
		Tty:          o.tty,
		OpenStdin:    o.stdin,
		AttachStdin:  attachStdin,
		AttachStdout: attachStdout,
		AttachStderr: attachStderr,
		Env:          env,
		Cmd:          cmd,
		Image:        image,
		Volumes:      volumes,
		Entrypoint:   entrypoint,
		WorkingDir:   o.workdir,
		Labels:       kvMap(labels),
		StopSignal:   o.stopSignal,
		Healthcheck:  health,
	}
	if flags.Changed("stop-timeout") {
		config.StopTimeout = &o.stopTimeout
	}
	// With stdin attached, close the container's stdin when the client detaches.
	if config.OpenStdin && config.AttachStdin {
		config.StdinOnce = true
	}

	hostConfig := &container.HostConfig{
		Binds:           binds,
		Mounts:          mounts,
		ContainerIDFile: o.cidfile,
		OomScoreAdj:     o.oomScoreAdj,
		AutoRemove:      o.autoRemove,
		Privileged:      o.privileged,
		PortBindings:    bindings,
		PublishAllPorts: o.publishAll,
		// Never nil, like docker: older containers may have nil here, new ones do not.
		DNS:            dns,
		DNSSearch:      nonNil(o.dnsSearch.values),
		DNSOptions:     nonNil(o.dnsOptions.values),
		ExtraHosts:     o.extraHosts.values,
		Links:          o.links.values,
		IpcMode:        container.IpcMode(o.ipcMode),
		NetworkMode:    container.NetworkMode(o.networkMode()),
		PidMode:        container.PidMode(o.pidMode),
		UTSMode:        container.UTSMode(o.utsMode),
		UsernsMode:     container.UsernsMode(o.usernsMode),
		CgroupnsMode:   container.CgroupnsMode(o.cgroupnsMod),
		CapAdd:         o.capAdd.values,
		CapDrop:        o.capDrop.values,
		GroupAdd:       o.groupAdd.values,
		RestartPolicy:  restart,
		SecurityOpt:    securityOpts,
		ReadonlyRootfs: o.readOnly,
		LogConfig:      container.LogConfig{Type: o.logDriver, Config: kvMapOrNil(o.logOpts.values)},
		ShmSize:        int64(o.shmSize),
		Tmpfs:          tmpfs,
		Sysctls:        kvMapOrNil(o.sysctls.values),
		Runtime:        o.runtime,
		Annotations:    kvMapOrNil(o.annotations.values),
		MaskedPaths:    maskedPaths,
		ReadonlyPaths:  readonlyPaths,
		Resources: container.Resources{
			BlkioWeight:       o.blkioWeight,
			CpusetMems:        o.cpusetMems,
			DeviceCgroupRules: o.deviceCgroupRules.values,
			OomKillDisable:    &o.oomKillDisable,
			MemorySwappiness:  &o.swappiness,
			CgroupParent:      o.cgroupParent,
			Memory:            int64(o.memory),
			MemoryReservation: int64(o.memoryReservation),
			MemorySwap:        int64(o.memorySwap),
			NanoCPUs:          int64(o.cpus),
			CPUShares:         o.cpuShares,
			CPUPeriod:         o.cpuPeriod,
			CPUQuota:          o.cpuQuota,
			CpusetCpus:        o.cpusetCpus,
			Ulimits:           ulimits,
			Devices:           devices,
		},
	}
	if flags.Changed("pids-limit") {
		hostConfig.PidsLimit = &o.pidsLimit
	}
	if flags.Changed("init") {
		hostConfig.Init = &o.init
	}
	return &containerConfig{
		Config:           config,
		HostConfig:       hostConfig,
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: endpoints},
	}, nil
}

// networkMode is the first --network, or "default" as docker sends.
func (o *containerOptions) networkMode() string {
	if len(o.networks.values) == 0 {
		return "default"
	}
	name, _ := parseNetworkArg(o.networks.values[0])
	return name
}

// endpoints builds the per-network endpoint settings the way docker does: the
// aliases and addresses go to the first network, and a single network without
// options sends no endpoint configuration at all.
func (o *containerOptions) endpoints() (map[string]*network.EndpointSettings, error) {
	eps := map[string]*network.EndpointSettings{}
	nets := o.networks.values
	if len(nets) == 0 {
		nets = []string{"default"}
	}
	for i, arg := range nets {
		name, ep := parseNetworkArg(arg)
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("no name set for network")
		}
		if i == 0 {
			ep.Aliases = append(ep.Aliases, o.aliases.values...)
			if err := o.applyIPs(ep); err != nil {
				return nil, err
			}
			if o.macAddress != "" {
				mac, err := net.ParseMAC(strings.TrimSpace(o.macAddress))
				if err != nil {
					return nil, fmt.Errorf("%s is not a valid mac address", o.macAddress)
				}
				ep.MacAddress = network.HardwareAddr(mac)
			}
		}
		userDefined := isUserDefinedNetwork(name)
		// like docker's CLI: on a user-defined network --link is an
		// endpoint option, on the default bridge a legacy link
		if i == 0 && userDefined {
			ep.Links = o.links.values
		}
		if !userDefined && len(ep.Aliases) > 0 {
			return nil, fmt.Errorf("network-scoped aliases are only supported for user-defined networks")
		}
		if _, dup := eps[name]; dup {
			return nil, fmt.Errorf("network %q is specified multiple times", name)
		}
		if i == 0 && len(o.networks.values) == 1 && isEmptyEndpoint(ep) {
			continue
		}
		eps[name] = ep
	}
	return eps, nil
}

func (o *containerOptions) applyIPs(ep *network.EndpointSettings) error {
	if o.ipv4 == "" && o.ipv6 == "" {
		return nil
	}
	ep.IPAMConfig = &network.EndpointIPAMConfig{}
	for _, a := range []struct {
		val string
		dst *netip.Addr
	}{{o.ipv4, &ep.IPAMConfig.IPv4Address}, {o.ipv6, &ep.IPAMConfig.IPv6Address}} {
		if a.val == "" {
			continue
		}
		addr, err := netip.ParseAddr(a.val)
		if err != nil {
			return fmt.Errorf("invalid IP address %q: %w", a.val, err)
		}
		*a.dst = addr
	}
	return nil
}

// parseNetworkArg reads "name" or docker's advanced "name=net,alias=a" syntax.
func parseNetworkArg(arg string) (string, *network.EndpointSettings) {
	ep := &network.EndpointSettings{}
	if !strings.Contains(arg, "=") {
		return arg, ep
	}
	var name string
	for _, field := range strings.Split(arg, ",") {
		k, v, _ := strings.Cut(field, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name":
			name = v
		case "alias":
			ep.Aliases = append(ep.Aliases, v)
		case "driver-opt":
			dk, dv, _ := strings.Cut(v, "=")
			if ep.DriverOpts == nil {
				ep.DriverOpts = map[string]string{}
			}
			ep.DriverOpts[dk] = dv
		case "gw-priority":
			ep.GwPriority, _ = strconv.Atoi(v)
		}
	}
	return name, ep
}

func isUserDefinedNetwork(name string) bool {
	switch name {
	case "default", "bridge", "host", "none":
		return false
	}
	return !strings.HasPrefix(name, "container:")
}

func isEmptyEndpoint(ep *network.EndpointSettings) bool {
	return ep.IPAMConfig == nil && len(ep.Aliases) == 0 && len(ep.DriverOpts) == 0 && len(ep.Links) == 0 && ep.GwPriority == 0 && len(ep.MacAddress) == 0
}

func (o *containerOptions) healthConfig() (*container.HealthConfig, error) {
	have := o.healthCmd != "" || o.healthInterval != 0 || o.healthTimeout != 0 ||
		o.healthStartPeriod != 0 || o.healthRetries != 0 || o.healthStartInterval != 0
	if o.noHealthcheck {
		if have {
			return nil, fmt.Errorf("--no-healthcheck conflicts with --health-* options")
		}
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !have {
		return nil, nil
	}
	for _, d := range []struct {
		name string
		val  time.Duration
	}{{"interval", o.healthInterval}, {"timeout", o.healthTimeout}, {"start-period", o.healthStartPeriod}, {"start-interval", o.healthStartInterval}} {
		if d.val < 0 {
			return nil, fmt.Errorf("--health-%s cannot be negative", d.name)
		}
	}
	if o.healthRetries < 0 {
		return nil, fmt.Errorf("--health-retries cannot be negative")
	}
	hc := &container.HealthConfig{
		Interval:      o.healthInterval,
		Timeout:       o.healthTimeout,
		StartPeriod:   o.healthStartPeriod,
		StartInterval: o.healthStartInterval,
		Retries:       o.healthRetries,
	}
	if o.healthCmd != "" {
		hc.Test = []string{"CMD-SHELL", o.healthCmd}
	}
	return hc, nil
}

// parseVolumes splits -v values into anonymous volumes (a lone container
// path) and binds (host path or volume name, container path, options).
func parseVolumes(specs []string) (map[string]struct{}, []string, error) {
	volumes := map[string]struct{}{}
	var binds []string
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		switch {
		case spec == "":
			return nil, nil, fmt.Errorf("invalid empty volume spec")
		case len(parts) == 1:
			volumes[spec] = struct{}{}
		case len(parts) > 3:
			return nil, nil, fmt.Errorf("invalid spec: %s: too many colons", spec)
		default:
			if parts[0] == "" || parts[1] == "" {
				return nil, nil, fmt.Errorf("invalid spec: %s: empty section between colons", spec)
			}
			if strings.HasPrefix(parts[0], ".") {
				if abs, err := filepath.Abs(parts[0]); err == nil {
					parts[0] = abs
				}
			}
			binds = append(binds, strings.Join(parts, ":"))
		}
	}
	if len(volumes) == 0 {
		volumes = nil
	}
	return volumes, binds, nil
}

// parsePorts reads -p and --expose into exposed ports and port bindings.
func parsePorts(publish, expose []string) (network.PortSet, network.PortMap, error) {
	specs := make([]string, 0, len(publish))
	for _, p := range publish {
		specs = append(specs, longPortSyntax(p))
	}
	natPorts, natBindings, err := nat.ParsePortSpecs(specs)
	if err != nil {
		return nil, nil, err
	}
	ports := network.PortSet{}
	for p := range natPorts {
		port, err := network.ParsePort(string(p))
		if err != nil {
			return nil, nil, err
		}
		ports[port] = struct{}{}
	}
	bindings := network.PortMap{}
	for p, bs := range natBindings {
		port, err := network.ParsePort(string(p))
		if err != nil {
			return nil, nil, err
		}
		for _, b := range bs {
			var ip netip.Addr
			if b.HostIP != "" {
				if ip, err = netip.ParseAddr(b.HostIP); err != nil {
					return nil, nil, fmt.Errorf("invalid IP address: %s", b.HostIP)
				}
			}
			bindings[port] = append(bindings[port], network.PortBinding{HostIP: ip, HostPort: b.HostPort})
		}
	}
	for _, e := range expose {
		if strings.Contains(e, ":") {
			return nil, nil, fmt.Errorf("invalid port format for --expose: %s", e)
		}
		proto, rng := nat.SplitProtoPort(e)
		start, end, err := nat.ParsePortRange(rng)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid range format for --expose: %s, error: %s", e, err)
		}
		for i := start; i <= end; i++ {
			port, err := network.ParsePort(strconv.FormatUint(i, 10) + "/" + proto)
			if err != nil {
				return nil, nil, err
			}
			ports[port] = struct{}{}
		}
	}
	if len(ports) == 0 {
		ports = nil
	}
	if len(bindings) == 0 {
		bindings = nil
	}
	return ports, bindings, nil
}

// longPortSyntax converts docker's "target=80,published=8080,protocol=udp"
// form to the short "8080:80/udp" form; short forms pass through.
func longPortSyntax(v string) string {
	if !strings.Contains(v, "=") {
		return v
	}
	var target, published, proto string
	for _, f := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "target":
			target = val
		case "published":
			published = val
		case "protocol":
			proto = val
		}
	}
	s := target
	if published != "" {
		s = published + ":" + target
	}
	if proto != "" {
		s += "/" + proto
	}
	return s
}

// readKVFiles reads key=value files (env or label files) and appends the
// command-line values, which therefore override. lookup, when not nil, fills
// in keys listed without a value (dropped when not found).
func readKVFiles(files, values []string, lookup func(string) (string, bool)) ([]string, error) {
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		lines, err := parseKVFile(data, lookup)
		if err != nil {
			return nil, fmt.Errorf("invalid env file (%s): %w", f, err)
		}
		out = append(out, lines...)
	}
	return append(out, values...), nil
}

func parseKVFile(data []byte, lookup func(string) (string, bool)) ([]string, error) {
	var lines []string
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if !utf8.Valid(sc.Bytes()) {
			return nil, fmt.Errorf("invalid utf8 bytes at line %d: %v", n, sc.Bytes())
		}
		// Leading whitespace is dropped; trailing whitespace belongs to the value.
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		key, _, hasValue := strings.Cut(line, "=")
		if key == "" {
			return nil, fmt.Errorf("no variable name on line '%s'", line)
		}
		if strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("variable '%s' contains whitespaces", key)
		}
		if hasValue {
			lines = append(lines, line)
		} else if lookup != nil {
			if v, ok := lookup(key); ok {
				lines = append(lines, key+"="+v)
			}
		}
	}
	return lines, sc.Err()
}

func parseRestartPolicy(policy string) (container.RestartPolicy, error) {
	if policy == "" {
		return container.RestartPolicy{}, nil
	}
	k, v, ok := strings.Cut(policy, ":")
	if ok && k == "" {
		return container.RestartPolicy{}, fmt.Errorf("invalid restart policy format: no policy provided before colon")
	}
	p := container.RestartPolicy{Name: container.RestartPolicyMode(k)}
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return container.RestartPolicy{}, fmt.Errorf("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	return p, nil
}

// parseSecurityOpts validates --security-opt values; a seccomp profile given
// as a file is read and sent inline, as docker does.
func parseSecurityOpts(opts []string) ([]string, error) {
	out := make([]string, 0, len(opts))
	for _, opt := range opts {
		if opt == "systempaths=unconfined" {
			out = append(out, opt)
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok && opt != "no-new-privileges" {
			return nil, fmt.Errorf("Invalid --security-opt: %q", opt)
		}
		if k == "seccomp" && v != "unconfined" && v != "builtin" {
			data, err := os.ReadFile(v)
			if err != nil {
				return nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, data); err != nil {
				return nil, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", v, err)
			}
			opt = "seccomp=" + buf.String()
		}
		out = append(out, opt)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// parseSystemPaths turns docker's "systempaths=unconfined" security option
// into empty masked and read-only path lists, as the docker CLI does.
func parseSystemPaths(opts []string) (filtered, masked, readonly []string) {
	for _, opt := range opts {
		if opt == "systempaths=unconfined" {
			masked, readonly = []string{}, []string{}
			continue
		}
		filtered = append(filtered, opt)
	}
	return filtered, masked, readonly
}

// namespacedSysctls are the kernel.* sysctls docker's CLI lets through
// (those of the IPC namespace); net.* and fs.mqueue.* are allowed too.
var namespacedSysctls = []string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}

// validateSysctl is docker's CLI check of --sysctl: a namespaced key=value.
func validateSysctl(v string) (string, error) {
	k, _, ok := strings.Cut(v, "=")
	if ok && (slices.Contains(namespacedSysctls, k) || strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "fs.mqueue.")) {
		return v, nil
	}
	return "", fmt.Errorf("sysctl '%s' is not allowed", v)
}

// deviceCgroupRule is the syntax of --device-cgroup-rule (docker's CLI).
var deviceCgroupRule = regexp.MustCompile(`^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$`)

func validateDeviceCgroupRule(v string) (string, error) {
	if !deviceCgroupRule.MatchString(v) {
		return "", fmt.Errorf("invalid device cgroup format '%s'", v)
	}
	return v, nil
}

func parseUlimits(values []string) ([]*container.Ulimit, error) {
	var out []*container.Ulimit
	for _, v := range values {
		u, err := units.ParseUlimit(v)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// parseDevices reads --device host[:container][:permissions].
func parseDevices(values []string) ([]container.DeviceMapping, error) {
	var out []container.DeviceMapping
	for _, v := range values {
		parts := strings.Split(v, ":")
		d := container.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
		switch len(parts) {
		case 1:
		case 2:
			if isDevicePerm(parts[1]) {
				d.CgroupPermissions = parts[1]
			} else {
				d.PathInContainer = parts[1]
			}
		case 3:
			if !isDevicePerm(parts[2]) {
				return nil, fmt.Errorf("invalid device mode: %s", parts[2])
			}
			d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
		default:
			return nil, fmt.Errorf("invalid device specification: %s", v)
		}
		out = append(out, d)
	}
	return out, nil
}

func isDevicePerm(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("rwm", c) {
			return false
		}
	}
	return true
}

func kvMap(values []string) map[string]string {
	m := make(map[string]string, len(values))
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		m[k] = val
	}
	return m
}

func kvMapOrNil(values []string) map[string]string {
	if len(values) == 0 {
		return nil
	}
	return kvMap(values)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// listOpt is a repeatable string flag with an optional validator.
type listOpt struct {
	values   []string
	validate func(string) (string, error)
}

func (l *listOpt) String() string {
	if len(l.values) == 0 {
		return ""
	}
	return "[" + strings.Join(l.values, " ") + "]"
}

func (l *listOpt) Set(v string) error {
	if l.validate != nil {
		var err error
		if v, err = l.validate(v); err != nil {
			return err
		}
	}
	l.values = append(l.values, v)
	return nil
}

func (l *listOpt) Type() string { return "list" }

func (l *listOpt) has(v string) bool {
	for _, x := range l.values {
		if x == v {
			return true
		}
	}
	return false
}

func validateAttach(v string) (string, error) {
	s := strings.ToLower(v)
	switch s {
	case "stdin", "stdout", "stderr":
		return s, nil
	}
	return v, fmt.Errorf("valid streams are STDIN, STDOUT and STDERR")
}

// validateEnv fills "KEY" from the client's environment when it is set there.
func validateEnv(v string) (string, error) {
	k, _, hasValue := strings.Cut(v, "=")
	if k == "" {
		return "", fmt.Errorf("invalid environment variable: %s", v)
	}
	if hasValue {
		return v, nil
	}
	if ev, ok := os.LookupEnv(k); ok {
		return k + "=" + ev, nil
	}
	return v, nil
}

func validateLabel(v string) (string, error) {
	k, _, _ := strings.Cut(v, "=")
	if strings.TrimSpace(k) == "" {
		return "", fmt.Errorf("invalid label '%s': empty name", v)
	}
	return v, nil
}

// validateExtraHost accepts "host:ip" and "host=ip" and sends "host:ip".
func validateExtraHost(v string) (string, error) {
	k, ip, ok := strings.Cut(v, "=")
	if !ok {
		k, ip, ok = strings.Cut(v, ":")
	}
	if !ok || k == "" || ip == "" {
		return "", fmt.Errorf("bad format for add-host: %q", v)
	}
	if ip != "host-gateway" {
		if _, err := netip.ParseAddr(strings.Trim(ip, "[]")); err != nil {
			return "", fmt.Errorf("invalid IP address in add-host: %q", ip)
		}
	}
	return k + ":" + ip, nil
}

func validateIP(v string) (string, error) {
	if _, err := netip.ParseAddr(strings.Trim(v, "[]")); err != nil {
		return "", fmt.Errorf("IP address is not correctly formatted: %s", v)
	}
	return strings.Trim(v, "[]"), nil
}

// memBytes is a size flag ("512m", "1g"); -1 means unlimited.
type memBytes int64

func (m *memBytes) String() string {
	if *m == 0 {
		return ""
	}
	return units.BytesSize(float64(*m))
}

func (m *memBytes) Set(v string) error {
	if v == "-1" {
		*m = -1
		return nil
	}
	n, err := units.RAMInBytes(v)
	*m = memBytes(n)
	return err
}

func (m *memBytes) Type() string { return "bytes" }

// nanoCPUs is a decimal CPU count stored in billionths of a CPU.
type nanoCPUs int64

func (c *nanoCPUs) String() string {
	if *c == 0 {
		return ""
	}
	return big.NewRat(int64(*c), 1e9).FloatString(3)
}

func (c *nanoCPUs) Set(v string) error {
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		return fmt.Errorf("failed to parse %v as a rational number", v)
	}
	n := r.Mul(r, big.NewRat(1e9, 1))
	if !n.IsInt() {
		return fmt.Errorf("value is too precise")
	}
	*c = nanoCPUs(n.Num().Int64())
	return nil
}

func (c *nanoCPUs) Type() string { return "decimal" }
