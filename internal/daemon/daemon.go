// Package daemon is berth's engine: it composes the image store, the container
// records, the OCI spec generator and the per-container shims into the
// operations the API serves. It holds orchestration only; the logic of each
// concern lives in its own package.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/ctrfs"
	eventlog "github.com/berth-project/berth/internal/events"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/userns"
)

// Version is berth's engine version.
const Version = "0.1.0"

// GitCommit and BuildTime are stamped by the build (-ldflags -X).
var (
	GitCommit = "unknown"
	BuildTime = "unknown"
)

// Config is what berthd's flags and daemon.json decide.
type Config struct {
	DataRoot   string // /var/lib/berth
	ExecRoot   string // /run/berth
	Runtime    string // OCI runtime binary, "runc" by default
	APIVersion string // advertised by /version
	MinAPI     string
	Logger     *slog.Logger
	// Debug is berthd's -D: info reports debug mode, as dockerd's does.
	Debug bool
	// InitPath is berth-init, the init --init runs as the container's pid 1
	// ("" when it is not installed: --init is then refused at start).
	InitPath string
	// Init is daemon.json's "init": containers that do not say otherwise
	// run with --init.
	Init bool
	// NoNewPrivileges is dockerd's --no-new-privileges: containers get it
	// unless their --security-opt no-new-privileges=false says otherwise.
	NoNewPrivileges bool
	// Host describes the host's cgroups and capabilities; nil detects them.
	Host *oci.Host
	// LogConfig is the log driver and options of containers created
	// without theirs (see DefaultLogConfig); empty is json-file with
	// berth's rotation.
	LogConfig containertypes.LogConfig
	// Warnings are found at boot and shown by info, as dockerd's (an OCI
	// runtime open to a known breakout).
	Warnings []string
	// Remap is --userns-remap: containers run in a user namespace with
	// these mappings unless they ask for --userns=host. DataRoot is then
	// already the mapping's own root.
	Remap userns.Remap
}

// Daemon implements api.Backend.
type Daemon struct {
	cfg        Config
	host       oci.Host // what the kernel can limit and grant
	log        *slog.Logger
	images     Images
	dist       Distributor
	containers Records
	mounter    Mounter
	volumes    Volumes
	openFiles  func(ctrfs.FS) ContainerFiles
	accounting Accounting
	builds     Builds
	tasks      *tasks.Supervisor
	events     *eventlog.Log
	life       *lifecycle

	mu       sync.Mutex
	watchers map[string]*watch

	restarts restartGates // containers in a restart, which inspect waits out

	netMu       sync.Mutex
	net         Networks // created on first use, see networks
	newNetworks func(ctx context.Context) (Networks, error)
}

// New composes the daemon from its parts, loads the container records under
// cfg.DataRoot and re-adopts every container whose shim survived a previous
// berthd.
func New(ctx context.Context, cfg Config, parts Parts) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Runtime == "" {
		cfg.Runtime = "runc"
	}
	if cfg.LogConfig.Type == "" {
		lc, err := DefaultLogConfig("", nil)
		if err != nil {
			return nil, err
		}
		cfg.LogConfig = lc
	}
	if parts.Images == nil || parts.Distribution == nil || parts.Records == nil || parts.Networks == nil || parts.Launcher == nil || parts.Mounter == nil || parts.Volumes == nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage("daemon: every part is required")
	}
	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot, containersDir(cfg.DataRoot), containersDir(cfg.ExecRoot)} {
		if err := os.MkdirAll(dir, 0o710); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := remapDirs(cfg); err != nil {
		return nil, err
	}
	d := &Daemon{
		cfg:         cfg,
		log:         cfg.Logger,
		images:      parts.Images,
		dist:        parts.Distribution,
		containers:  parts.Records,
		mounter:     parts.Mounter,
		volumes:     parts.Volumes,
		openFiles:   parts.Files,
		accounting:  parts.Accounting,
		builds:      parts.Builds,
		watchers:    map[string]*watch{},
		newNetworks: parts.Networks,
		events:      eventlog.New(0),
		life:        newLifecycle(),
	}
	// the stores log docker's volume and network events for every caller
	d.volumes = eventVolumes{Volumes: parts.Volumes, d: d}
	d.newNetworks = func(ctx context.Context) (Networks, error) {
		m, err := parts.Networks(ctx)
		if err != nil {
			return nil, err
		}
		return &eventNetworks{Networks: m, d: d}, nil
	}
	if cfg.Host != nil {
		d.host = *cfg.Host
	} else {
		d.host = oci.DetectHost()
	}
	d.tasks = tasks.New(tasks.Config{Launcher: parts.Launcher, Host: host{d}, Logger: cfg.Logger})
	if d.networkStateExists() {
		if _, err := d.networks(ctx); err != nil {
			return nil, err
		}
	}
	if err := d.restore(ctx); err != nil {
		return nil, err
	}
	// a berthd killed mid-build left its RUN steps' sandboxes
	if err := d.RemoveSandboxes(ctx); err != nil {
		d.log.Warn("remove build sandboxes", "err", err)
	}
	d.seedLifecycle() // the runs re-adopted above were started by an earlier berthd: no start event
	d.tasks.StartOnBoot(ctx, d.containers.List())
	return d, nil
}

// Close releases the daemon's resources. Running containers keep running
// under their shims.
func (d *Daemon) Close() error {
	errs := []error{d.tasks.Close()}
	d.events.Close()
	d.netMu.Lock()
	if d.net != nil {
		errs = append(errs, d.net.Close(context.Background()))
	}
	d.netMu.Unlock()
	return errors.Join(errs...)
}

func containersDir(root string) string { return filepath.Join(root, "containers") }

func (d *Daemon) containerDataDir(id string) string {
	return filepath.Join(containersDir(d.cfg.DataRoot), id)
}

func (d *Daemon) containerStateDir(id string) string {
	return filepath.Join(containersDir(d.cfg.ExecRoot), id)
}

func (d *Daemon) runtimeRoot() string { return filepath.Join(d.cfg.ExecRoot, "runc") }

// lookup finds a container by name, id or unique id prefix.
func (d *Daemon) lookup(ref string) (*container.Container, error) {
	c, err := d.containers.Get(ref)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// task returns id's live task, nil when it does not run.
func (d *Daemon) task(id string) *tasks.Task { return d.tasks.Get(id) }

// errNotRunning is docker's conflict for operations on stopped containers.
func errNotRunning(id string) error {
	return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", id))
}
