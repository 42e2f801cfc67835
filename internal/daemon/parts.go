package daemon

import (
	"context"
	"io"

	containertypes "github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/ctrfs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/tasks"
)

// Parts are the stores and managers the daemon composes, built by berthd's
// main (or by a test, with fakes).
type Parts struct {
	Images Images
	// Distribution pulls and pushes images for the image store.
	Distribution Distributor
	Records      Records
	// Networks creates the network manager on first use: a daemon whose
	// containers never leave `none` or `host` touches no bridge or firewall
	// table.
	Networks func(ctx context.Context) (Networks, error)
	// Launcher starts and re-adopts the per-container shims.
	Launcher tasks.Launcher
	// Mounter mounts the containers' root filesystems.
	Mounter Mounter
	// Volumes is the local volume store.
	Volumes Volumes
	// Files opens a container's files for cp and export (ctrfs); nil
	// leaves those operations unimplemented.
	Files func(ctrfs.FS) ContainerFiles
	// Accounting reads the kernel's counters of live containers (stats,
	// top); nil answers those requests with ErrNotImplemented.
	Accounting Accounting
	// Builds is the embedded builder (internal/build); nil answers build
	// requests with ErrNotImplemented.
	Builds Builds
}

// Accounting is what the kernel accounts of live containers, read where
// berthd runs (internal/cgroups on the host).
type Accounting interface {
	// Stats are the counters of the container whose pid 1 is pid, in the
	// API's shape (without the request's ids, times and precpu).
	Stats(ctx context.Context, pid int) (*containertypes.StatsResponse, error)
	// Pids lists the processes of the container whose pid 1 is pid.
	Pids(ctx context.Context, pid int) ([]int, error)
	// PS runs the host's ps with args (for pids, when it can).
	PS(ctx context.Context, args []string, pids []int) ([]byte, error)
}

// Images is the local image store, as the daemon uses it (*image.Store).
type Images interface {
	Get(ctx context.Context, ref string) (*image.Image, error)
	List(ctx context.Context, all bool, filters map[string][]string) ([]imagetypes.Summary, error)
	Inspect(ctx context.Context, ref string) (*imagetypes.InspectResponse, error)
	History(ctx context.Context, ref string) ([]imagetypes.HistoryResponseItem, error)
	Tag(ctx context.Context, source, repo, tag string) error
	Delete(ctx context.Context, ref string, force, noPrune bool, usedBy func(imageID string) (containerID string, running bool, used bool)) ([]imagetypes.DeleteResponse, error)
	Prune(ctx context.Context, filters map[string][]string, usedBy image.UsedBy) (*imagetypes.PruneReport, error)
	// DiskUsage returns the size of all layers (once) and, by image ID,
	// the size each image shares with others.
	DiskUsage(ctx context.Context) (layersSize int64, shared map[string]int64, err error)
	Import(ctx context.Context, r io.Reader, ref string, changes []string, message string) (string, error)
	Load(ctx context.Context, r io.Reader, progress func(line string)) error
	Save(ctx context.Context, refs []string, w io.Writer) error

	// PrepareRootfs creates (once) the container's rw layer over the
	// image and returns how to mount its root filesystem.
	PrepareRootfs(ctx context.Context, imageID, containerID string) (snapshot.Mount, error)
	// RemoveRootfs deletes the container's rw layer.
	RemoveRootfs(ctx context.Context, containerID string) error
	// Commit stores the container's rw layer as a new image.
	Commit(ctx context.Context, opts image.CommitOptions) (string, error)
	// Changes lists the changes of the container's rw layer.
	Changes(ctx context.Context, containerID string, exclude []string) ([]containertypes.FilesystemChange, error)
}

// Records is the in-memory index of container records: names, ids and id
// prefixes (*container.Store). Each record persists itself (Save).
type Records interface {
	Add(c *container.Container)
	Delete(id string)
	List() []*container.Container
	Get(ref string) (*container.Container, error)
	ReserveName(name, id string) error
	ReserveGeneratedName(id string) string
	ReleaseName(name string)
	Rename(id, newName string) error
}

// Networks is the network manager as the daemon uses it (*network.Manager).
type Networks interface {
	Create(ctx context.Context, name string, opts network.CreateOptions) (*network.Network, error)
	Get(ref string) (*network.Network, error)
	List() []*network.Network
	Remove(ctx context.Context, ref string) error
	Prune(ctx context.Context, match func(*network.Network) bool) ([]string, error)
	Inspect(ref string) (networktypes.Inspect, error)
	Summaries() []networktypes.Summary

	NewNetNS(id string) (string, error)
	Connect(ctx context.Context, netRef string, opts network.EndpointOptions) (*network.Endpoint, error)
	Disconnect(ctx context.Context, netRef, containerID string) error
	DisconnectAll(ctx context.Context, containerID string) error
	ReleaseAll(ctx context.Context, containerID string) error
	Endpoint(netRef, containerID string) (*network.Endpoint, error)
	Endpoints(containerID string) []*network.Endpoint
	NetworkEndpoints(netRef string) ([]*network.Endpoint, error)
	// RenameEndpoints renames a container's endpoints (their DNS name).
	RenameEndpoints(containerID, name string) error

	Close(ctx context.Context) error
}

// Mounter mounts and unmounts root filesystems (the kernel in berthd).
type Mounter interface {
	Mount(m snapshot.Mount, target string) error
	// Unmount unmounts everything at target; not mounted is no error.
	Unmount(target string) error
}
