package api

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/internal/backend"
)

// The option and stream types live in internal/backend, shared with the
// engine; these aliases keep the handlers' names short.
type (
	Filters                = backend.Filters
	ContainerListOptions   = backend.ContainerListOptions
	LogsOptions            = backend.LogsOptions
	LogMessage             = backend.LogMessage
	AttachStreams          = backend.AttachStreams
	AttachOptions          = backend.AttachOptions
	ImageListOptions       = backend.ImageListOptions
	ImageImportOptions     = backend.ImageImportOptions
	ImagePullOptions       = backend.ImagePullOptions
	ImagePushOptions       = backend.ImagePushOptions
	ExecStartOptions       = backend.ExecStartOptions
	BuildOptions           = backend.BuildOptions
	BuildCachePruneOptions = backend.BuildCachePruneOptions
	EventSubscription      = backend.EventSubscription
)

// Backend is everything the HTTP edge needs from the engine. cmd/berthd
// passes a *daemon.Daemon, which proves at compile time that it satisfies it.
type Backend interface {
	SystemBackend
	ContainerBackend
	ImageBackend
	DistributionBackend
	NetworkBackend
	VolumeBackend
	ExecBackend
	FilesBackend
	EventsBackend
	DiskBackend
	RunOpsBackend
	BuildBackend
}

// EventsBackend serves /events.
type EventsBackend interface {
	// SubscribeEvents returns the recorded events within [since, until]
	// (none when both are zero) that pass filters, and a subscription to
	// the live ones, which the caller closes.
	SubscribeEvents(ctx context.Context, since, until time.Time, filters Filters) ([]events.Message, EventSubscription)
}

// ExecBackend serves /containers/{id}/exec and /exec.
type ExecBackend interface {
	// ContainerExecCreate registers an exec in a running container and
	// returns its id.
	ContainerExecCreate(ctx context.Context, name string, req *container.ExecCreateRequest) (string, error)
	// ContainerExecStart runs the exec; without Detach it streams until the
	// process exits.
	ContainerExecStart(ctx context.Context, id string, opts ExecStartOptions) error
	ContainerExecResize(ctx context.Context, id string, height, width uint) error
	ContainerExecInspect(ctx context.Context, id string) (*container.ExecInspectResponse, error)
}

// VolumeBackend serves /volumes. An unknown volume is ErrNotFound; removing
// one in use is ErrConflict (409), even with force.
type VolumeBackend interface {
	VolumeList(ctx context.Context, filters Filters) (*volume.ListResponse, error)
	VolumeCreate(ctx context.Context, req volume.CreateRequest) (*volume.Volume, error)
	VolumeInspect(ctx context.Context, name string) (*volume.Volume, error)
	VolumeRemove(ctx context.Context, name string, force bool) error
	VolumePrune(ctx context.Context, filters Filters) (*volume.PruneReport, error)
}

// SystemBackend serves /_ping, /version and /info.
type SystemBackend interface {
	SystemInfo(ctx context.Context) (*system.Info, error)
	SystemVersion(ctx context.Context) (*system.VersionResponse, error)
}

// ContainerBackend serves /containers.
type ContainerBackend interface {
	ContainerCreate(ctx context.Context, name string, req *container.CreateRequest) (container.CreateResponse, error)
	ContainerList(ctx context.Context, opts ContainerListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, name string, size bool) (*container.InspectResponse, error)
	ContainerStart(ctx context.Context, name string, detachKeys string) error
	// ContainerStop signals and waits; a nil timeout means the container's
	// StopTimeout (default 10s). Stopping a stopped container is not an error
	// here: the edge answers 304.
	ContainerStop(ctx context.Context, name string, signal string, timeout *int) (alreadyStopped bool, err error)
	ContainerRestart(ctx context.Context, name string, signal string, timeout *int) error
	ContainerKill(ctx context.Context, name string, signal string) error
	// ContainerWait blocks until the condition is met and returns the exit status.
	ContainerWait(ctx context.Context, name string, condition container.WaitCondition) (<-chan container.WaitResponse, error)
	ContainerRemove(ctx context.Context, name string, force, removeVolumes, removeLinks bool) error
	ContainerLogs(ctx context.Context, name string, opts LogsOptions) (msgs <-chan LogMessage, tty bool, err error)
	ContainerAttach(ctx context.Context, name string, opts AttachOptions) error
	ContainerResize(ctx context.Context, name string, height, width uint) error
	ContainerRename(ctx context.Context, name, newName string) error
}

// ImageBackend serves /images.
type ImageBackend interface {
	ImageList(ctx context.Context, opts ImageListOptions) ([]image.Summary, error)
	ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error)
	ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error)
	ImageTag(ctx context.Context, source, repo, tag string) error
	ImageDelete(ctx context.Context, name string, force, noPrune bool) ([]image.DeleteResponse, error)
	// ImageImport reads a rootfs tarball and writes docker JSON progress
	// messages (jsonstream) to out; the last one carries the image id.
	ImageImport(ctx context.Context, src io.Reader, opts ImageImportOptions, out io.Writer) error
	// ImageLoad reads a docker-archive (or OCI layout) tarball and writes
	// JSON progress messages ("Loaded image: ...") to out.
	ImageLoad(ctx context.Context, src io.Reader, quiet bool, out io.Writer) error
	// ImageSave writes a docker-archive tarball of the named images to w.
	ImageSave(ctx context.Context, names []string, w io.Writer) error
}

// DistributionBackend serves pulls, pushes, logins and prunes.
type DistributionBackend interface {
	// ImagePull fetches an image, writing docker JSON progress messages to
	// out.
	ImagePull(ctx context.Context, opts ImagePullOptions, out io.Writer) error
	// ImagePush sends an image (or every tag of a repository), writing
	// docker JSON progress messages to out.
	ImagePush(ctx context.Context, opts ImagePushOptions, out io.Writer) error
	// RegistryLogin checks credentials against their registry.
	RegistryLogin(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error)
	// DistributionInspect asks the registry for an image's descriptor and
	// platforms.
	DistributionInspect(ctx context.Context, name string, auth registry.AuthConfig) (*registry.DistributionInspect, error)
	// ImagePrune removes unused images.
	ImagePrune(ctx context.Context, filters Filters) (*image.PruneReport, error)
}

// NetworkBackend serves /networks. Names are a network's name, full id or
// unique id prefix; an unknown one is ErrNotFound ("network NAME not
// found"). Filter keys are checked by the edge (list: dangling, driver, id,
// label, name, scope, type; prune: label, label!, until); their values are
// the backend's to interpret.
type NetworkBackend interface {
	NetworkList(ctx context.Context, filters Filters) ([]network.Summary, error)
	// NetworkInspect returns a network with its endpoints; verbose asks for
	// swarm service details, which berth does not have.
	NetworkInspect(ctx context.Context, name string, verbose bool) (*network.Inspect, error)
	// NetworkCreate makes a network: a duplicate name is ErrConflict (409),
	// a predefined name or overlapping subnet ErrPermissionDenied (403).
	NetworkCreate(ctx context.Context, req network.CreateRequest) (*network.CreateResponse, error)
	// NetworkRemove deletes a network; one in use or predefined is
	// ErrPermissionDenied (403) with docker's message.
	NetworkRemove(ctx context.Context, name string) error
	NetworkPrune(ctx context.Context, filters Filters) (*network.PruneReport, error)
	// NetworkConnect attaches req.Container (name or id) to the network.
	NetworkConnect(ctx context.Context, name string, req network.ConnectRequest) error
	// NetworkDisconnect detaches req.Container from the network.
	NetworkDisconnect(ctx context.Context, name string, req network.DisconnectRequest) error
}

// Builds serves builds: BuildKit's control API and client sessions (the
// docker CLI's buildx, compose), the classic POST /build, and the build
// cache. Every method runs on the engine's embedded BuildKit, which starts
// on first use.
type BuildBackend interface {
	// ServeBuildKit serves BuildKit's gRPC control API over the HTTP/2
	// (h2c) connection upgrade hijacks from POST /grpc, until it closes.
	// An error returned before calling upgrade is the request's answer.
	ServeBuildKit(ctx context.Context, upgrade func() (net.Conn, error)) error
	// ServeBuildSession serves a client's session (files, auth, secrets,
	// ssh) over the connection upgrade hijacks from POST /session; header
	// holds the request's X-Docker-Expose-Session-* metadata. A session
	// id already in use is refused before the upgrade.
	ServeBuildSession(ctx context.Context, upgrade func() (net.Conn, error), header map[string][]string) error
	// Build runs a classic POST /build: the context is the tar in body
	// (version 1) or comes through the session (version 2); docker's JSON
	// message stream is written to out.
	Build(ctx context.Context, opts BuildOptions, body io.Reader, out io.Writer) error
	// BuildCancel cancels the running build with the client-chosen id.
	BuildCancel(ctx context.Context, id string) error
	BuildCachePrune(ctx context.Context, opts BuildCachePruneOptions) (*build.CachePruneReport, error)
	// BuildCacheUsage lists the build cache's records (system df).
	BuildCacheUsage(ctx context.Context) ([]build.CacheRecord, error)
}
