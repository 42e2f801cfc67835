package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"
	networktypes "github.com/moby/moby/api/types/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/tasks/taskstest"
	"github.com/berth-project/berth/internal/volume"
)

// testImageID is the id of the one image the fake store holds, as busybox.
const testImageID = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeImages holds one image and records the rootfs calls.
type fakeImages struct {
	mu         sync.Mutex
	prepareErr error
	onPrepare  func() // called by PrepareRootfs, outside the fake's lock
	prepared   []string
	removed    []string
	commits    []image.CommitOptions
	volumes    map[string]struct{} // the image's VOLUMEs
}

var errNotFaked = errdefs.ErrNotImplemented.WithMessage("not faked")

func (f *fakeImages) Get(ctx context.Context, ref string) (*image.Image, error) {
	if ref != "busybox" && ref != testImageID {
		return nil, errdefs.ErrNotFound.WithMessage("No such image: " + ref)
	}
	img := &image.Image{ID: testImageID, RepoTags: []string{"busybox:latest"}}
	img.Config.Config.Cmd = []string{"sh"}
	img.Config.Config.Volumes = f.volumes
	return img, nil
}

func (f *fakeImages) PrepareRootfs(ctx context.Context, imageID, containerID string) (snapshot.Mount, error) {
	if f.onPrepare != nil {
		f.onPrepare()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prepareErr != nil {
		return snapshot.Mount{}, f.prepareErr
	}
	f.prepared = append(f.prepared, containerID)
	return snapshot.Mount{Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/l"}}, nil
}

func (f *fakeImages) Commit(ctx context.Context, opts image.CommitOptions) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits = append(f.commits, opts)
	return "sha256:committed", nil
}

func (f *fakeImages) Changes(ctx context.Context, containerID string, exclude []string) ([]containertypes.FilesystemChange, error) {
	return nil, nil
}

func (f *fakeImages) RemoveRootfs(ctx context.Context, containerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, containerID)
	return nil
}

func (f *fakeImages) removedRootfs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.removed)
}

func (f *fakeImages) List(context.Context, bool, map[string][]string) ([]imagetypes.Summary, error) {
	return nil, errNotFaked
}
func (f *fakeImages) Inspect(context.Context, string) (*imagetypes.InspectResponse, error) {
	return nil, errNotFaked
}
func (f *fakeImages) History(context.Context, string) ([]imagetypes.HistoryResponseItem, error) {
	return nil, errNotFaked
}
func (f *fakeImages) Tag(context.Context, string, string, string) error { return errNotFaked }
func (f *fakeImages) Delete(context.Context, string, bool, bool, func(string) (string, bool, bool)) ([]imagetypes.DeleteResponse, error) {
	return nil, errNotFaked
}
func (f *fakeImages) Prune(context.Context, map[string][]string, image.UsedBy) (*imagetypes.PruneReport, error) {
	return nil, errNotFaked
}
func (f *fakeImages) DiskUsage(context.Context) (int64, map[string]int64, error) {
	return 0, map[string]int64{}, nil
}
func (f *fakeImages) Import(context.Context, io.Reader, string, []string, string) (string, error) {
	return "", errNotFaked
}
func (f *fakeImages) Load(context.Context, io.Reader, func(string)) error { return errNotFaked }
func (f *fakeImages) Save(context.Context, []string, io.Writer) error     { return errNotFaked }

// fakeNetworks is a network manager with "bridge" and the user networks
// given, that records the endpoints it was asked for.
type fakeNetworks struct {
	mu       sync.Mutex
	root     string
	nets     map[string]*network.Network
	connects []connectCall
	released []string
	renamed  []string // container id=new name
	closed   bool
	// releaseDelay slows ReleaseAll down, as a real teardown can be.
	releaseDelay time.Duration
	// eps, by container id, are what Endpoints reports and Disconnect
	// removes; nil unless a test sets it.
	eps map[string][]*network.Endpoint
}

type connectCall struct {
	net  string
	opts network.EndpointOptions
}

func (f *fakeNetworks) Get(ref string) (*network.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.nets[ref]; ok {
		return n, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage("network " + ref + " not found")
}

func (f *fakeNetworks) NewNetNS(id string) (string, error) { return filepath.Join(f.root, id), nil }

func (f *fakeNetworks) Connect(ctx context.Context, netRef string, opts network.EndpointOptions) (*network.Endpoint, error) {
	if _, err := f.Get(netRef); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects = append(f.connects, connectCall{netRef, opts})
	return &network.Endpoint{NetworkName: netRef, ContainerID: opts.ContainerID}, nil
}

func (f *fakeNetworks) ReleaseAll(ctx context.Context, containerID string) error {
	time.Sleep(f.releaseDelay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, containerID)
	return nil
}

func (f *fakeNetworks) RenameEndpoints(containerID, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renamed = append(f.renamed, containerID+"="+name)
	return nil
}

func (f *fakeNetworks) DisconnectAll(ctx context.Context, containerID string) error {
	return f.ReleaseAll(ctx, containerID)
}

func (f *fakeNetworks) Close(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeNetworks) calls() []connectCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.connects)
}

// Endpoints are the endpoints a test put in f.eps (none by default).
func (f *fakeNetworks) Endpoints(containerID string) []*network.Endpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.eps[containerID])
}

func (f *fakeNetworks) Endpoint(string, string) (*network.Endpoint, error) {
	return nil, errdefs.ErrNotFound
}
func (f *fakeNetworks) NetworkEndpoints(string) ([]*network.Endpoint, error) { return nil, nil }

// Disconnect removes an endpoint from f.eps, by network id.
func (f *fakeNetworks) Disconnect(_ context.Context, netRef, containerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.eps == nil {
		return errNotFaked
	}
	f.eps[containerID] = slices.DeleteFunc(f.eps[containerID], func(ep *network.Endpoint) bool { return ep.NetworkID == netRef })
	return nil
}

func (f *fakeNetworks) Create(context.Context, string, network.CreateOptions) (*network.Network, error) {
	return nil, errNotFaked
}
func (f *fakeNetworks) List() []*network.Network             { return nil }
func (f *fakeNetworks) Remove(context.Context, string) error { return errNotFaked }
func (f *fakeNetworks) Inspect(string) (networktypes.Inspect, error) {
	return networktypes.Inspect{}, errNotFaked
}
func (f *fakeNetworks) Summaries() []networktypes.Summary { return nil }
func (f *fakeNetworks) Prune(context.Context, func(*network.Network) bool) ([]string, error) {
	return nil, errNotFaked
}

// fakeMounter records the mounted targets.
type fakeMounter struct {
	mu      sync.Mutex
	mounted map[string]bool
}

func (f *fakeMounter) Mount(m snapshot.Mount, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mounted[target] = true
	return nil
}

func (f *fakeMounter) Unmount(target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.mounted, target)
	return nil
}

func (f *fakeMounter) isMounted(target string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mounted[target]
}

// env is a daemon over fakes, in temporary folders, as an ordinary user.
type env struct {
	d                  *Daemon
	dataRoot, execRoot string
	launcher           *taskstest.Launcher
	images             *fakeImages
	nets               *fakeNetworks
	mounter            *fakeMounter
	volumes            *volume.Store
	netStarts          int      // calls of the network factory
	manager            Networks // when set, served instead of nets (a real manager over fakes)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		dataRoot: t.TempDir(),
		execRoot: t.TempDir(),
		launcher: taskstest.NewLauncher(),
		images:   &fakeImages{},
		mounter:  &fakeMounter{mounted: map[string]bool{}},
	}
	vols, err := volume.Open(filepath.Join(e.dataRoot, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	e.volumes = vols
	e.nets = &fakeNetworks{root: filepath.Join(e.execRoot, "netns"), nets: map[string]*network.Network{
		"bridge": {Name: "bridge", Driver: network.DriverBridge},
		"front":  {Name: "front", Driver: network.DriverBridge},
		"back":   {Name: "back", Driver: network.DriverBridge},
	}}
	e.open(t)
	return e
}

// open starts a daemon on e's folders and parts, as berthd does at boot.
func (e *env) open(t *testing.T) {
	t.Helper()
	d, err := New(context.Background(), Config{
		DataRoot: e.dataRoot,
		ExecRoot: e.execRoot,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, Parts{
		Images:       e.images,
		Distribution: &fakeDistributor{},
		Records:      container.NewStore(),
		Networks: func(ctx context.Context) (Networks, error) {
			e.netStarts++
			if e.manager != nil {
				return e.manager, nil
			}
			return e.nets, nil
		},
		Launcher: e.launcher,
		Mounter:  e.mounter,
		Volumes:  e.volumes,
	})
	if err != nil {
		t.Fatalf("daemon.New: %v", err)
	}
	e.d = d
	t.Cleanup(func() { _ = d.Close() })
}

// reopen closes the daemon and starts a new one, as a berthd restart.
func (e *env) reopen(t *testing.T) {
	t.Helper()
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	e.open(t)
}

// create creates a busybox container with the request edited by edit.
func (e *env) create(t *testing.T, name string, edit func(*containertypes.CreateRequest)) string {
	t.Helper()
	req := &containertypes.CreateRequest{
		Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"sleep", "300"}},
		HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
	}
	if edit != nil {
		edit(req)
	}
	resp, err := e.d.ContainerCreate(context.Background(), name, req)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return resp.ID
}

// run creates and starts a container.
func (e *env) run(t *testing.T, name string, edit func(*containertypes.CreateRequest)) string {
	t.Helper()
	id := e.create(t, name, edit)
	if err := e.d.ContainerStart(context.Background(), id, ""); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return id
}

// shim is the fake shim of id's latest run.
func (e *env) shim(id string) *taskstest.Shim {
	return e.launcher.Shim(e.d.containerStateDir(id))
}

// state is id's recorded state.
func (e *env) state(t *testing.T, id string) *containertypes.State {
	t.Helper()
	resp, err := e.d.ContainerInspect(context.Background(), id, false)
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return resp.State
}

// saved is id's record as written on disk.
func (e *env) saved(t *testing.T, id string) *container.Container {
	t.Helper()
	c, err := container.Load(e.d.containerDataDir(id))
	if err != nil {
		t.Fatalf("load record of %s: %v", id, err)
	}
	return c
}

// spec is the OCI spec written for id's latest start.
func (e *env) spec(t *testing.T, id string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.d.containerStateDir(id), "config.json"))
	if err != nil {
		t.Fatalf("read OCI spec: %v", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func intp(i int) *int { return &i }

// wantClass fails t unless err is of the errdefs class is checks.
func wantClass(t *testing.T, what string, err error, is func(error) bool, class string) {
	t.Helper()
	if err == nil || !is(err) {
		t.Errorf("%s: error %v, want %s", what, err, class)
	}
}
