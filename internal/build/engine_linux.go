package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	ctdsnapshot "github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/plugins/snapshots/native"
	"github.com/containerd/containerd/v2/plugins/snapshots/overlay"
	"github.com/containerd/containerd/v2/plugins/snapshots/overlay/overlayutils"
	"github.com/moby/buildkit/cache/remotecache"
	inlineremotecache "github.com/moby/buildkit/cache/remotecache/inline"
	localremotecache "github.com/moby/buildkit/cache/remotecache/local"
	registryremotecache "github.com/moby/buildkit/cache/remotecache/registry"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/control"
	"github.com/moby/buildkit/executor/oci"
	"github.com/moby/buildkit/executor/runcexecutor"
	"github.com/moby/buildkit/frontend"
	dockerfile "github.com/moby/buildkit/frontend/dockerfile/builder"
	"github.com/moby/buildkit/frontend/gateway"
	"github.com/moby/buildkit/frontend/gateway/forwarder"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/solver"
	"github.com/moby/buildkit/solver/bboltcachestorage"
	"github.com/moby/buildkit/util/db/boltutil"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/moby/buildkit/util/network/netproviders"
	"github.com/moby/buildkit/version"
	"github.com/moby/buildkit/worker"
	"github.com/moby/buildkit/worker/base"
	"github.com/moby/buildkit/worker/runc"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
)

// Entitlements builds may ask for: host networking, as dockerd allows by
// default; security.insecure is not granted.
var entitlements = []string{"network.host"}

// start assembles BuildKit as buildkitd's OCI worker does, with berth's
// runtime, state folders, network and image store.
func (b *Builder) start() (_ *engine, err error) {
	if b.cfg.Root == "" || b.cfg.ExecRoot == "" {
		return nil, errors.New("build: Root and ExecRoot must be set")
	}
	root, err := filepath.Abs(b.cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	for _, d := range []string{root, b.cfg.ExecRoot} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
	}
	var closers []func() error
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				_ = closers[i]()
			}
		}
	}()
	ctx := context.Background()
	stampVersion()

	sm, err := session.NewManager()
	if err != nil {
		return nil, fmt.Errorf("build: sessions: %w", err)
	}
	np, err := b.networkProviders()
	if err != nil {
		return nil, fmt.Errorf("build: network: %w", err)
	}
	// The worker's own executor (whose network is buildkitd's) is replaced
	// below by one on berth's runtime, state folder and network.
	opt, err := runc.NewWorkerOpt(root, snapshotterFactory(root), false, oci.ProcessSandbox, nil, nil,
		netproviders.Opt{Mode: "host"}, nil, b.cfg.Runtime, "", false, nil, "", "", nil)
	if err != nil {
		return nil, fmt.Errorf("build: worker: %w", err)
	}
	closers = append(closers, opt.MetadataStore.Close, opt.ContentMetadata.Close)
	var candidates []string
	if b.cfg.Runtime != "" {
		candidates = []string{b.cfg.Runtime}
	}
	exe, err := runcexecutor.New(runcexecutor.Opt{
		Root:              filepath.Join(b.cfg.ExecRoot, "executor"),
		CommandCandidates: candidates,
		ProcessMode:       oci.ProcessSandbox,
		ResourceMonitor:   opt.ResourceMonitor,
	}, np)
	if err != nil {
		return nil, fmt.Errorf("build: executor: %w", err)
	}
	opt.Executor = exe
	opt.NetworkProviders = np
	opt.ProxyProvider = nil
	if opt.GCPolicy, err = b.cfg.GC.GCPolicy(root); err != nil {
		return nil, fmt.Errorf("build: gc: %w", err)
	}
	opt.BuildkitVersion = client.BuildkitVersion{Package: version.Package, Version: version.Version, Revision: version.Revision}
	opt.RegistryHosts = b.registryHosts
	bw, err := base.NewWorker(ctx, opt)
	if err != nil {
		return nil, fmt.Errorf("build: worker: %w", err)
	}
	w := &berthWorker{Worker: bw, b: b}
	wc := &worker.Controller{}
	if err := wc.Add(w); err != nil {
		return nil, fmt.Errorf("build: worker: %w", err)
	}
	closers = closers[:0] // the worker controller closes the worker's stores
	closers = append(closers, wc.Close)

	gw, err := gateway.NewGatewayFrontend(wc.Infos(), nil)
	if err != nil {
		return nil, fmt.Errorf("build: gateway frontend: %w", err)
	}
	frontends := map[string]frontend.Frontend{
		"dockerfile.v0": forwarder.NewGatewayForwarder(wc.Infos(), dockerfile.Build),
		"gateway.v0":    gw,
	}
	cacheStorage, err := bboltcachestorage.NewStore(filepath.Join(root, "cache.db"))
	if err != nil {
		return nil, fmt.Errorf("build: cache store: %w", err)
	}
	historyDB, err := boltutil.SafeOpen(filepath.Join(root, "history.db"), 0o600, &bolt.Options{
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	if err != nil {
		_ = cacheStorage.Close()
		return nil, fmt.Errorf("build: history: %w", err)
	}
	stop := make(chan struct{})
	ctrl, err := control.NewController(control.Opt{
		SessionManager:   sm,
		WorkerController: wc,
		Frontends:        frontends,
		ResolveCacheExporterFuncs: map[string]remotecache.ResolveCacheExporterFunc{
			"registry": registryremotecache.ResolveCacheExporterFunc(sm, b.registryHosts),
			"local":    localremotecache.ResolveCacheExporterFunc(sm),
			"inline":   inlineremotecache.ResolveCacheExporterFunc(),
		},
		ResolveCacheImporterFuncs: map[string]remotecache.ResolveCacheImporterFunc{
			"registry": registryremotecache.ResolveCacheImporterFunc(sm, bw.ContentStore(), b.registryHosts),
			"local":    localremotecache.ResolveCacheImporterFunc(sm),
		},
		CacheManager:   solver.NewCacheManager(ctx, "local", cacheStorage, worker.NewCacheResultStorage(wc)),
		Entitlements:   entitlements,
		HistoryDB:      historyDB,
		CacheStore:     cacheStorage,
		LeaseManager:   bw.LeaseManager(),
		ContentStore:   bw.ContentStore(),
		GarbageCollect: bw.GarbageCollect,
		GracefulStop:   stop,
	})
	if err != nil {
		_ = historyDB.Close()
		_ = cacheStorage.Close()
		return nil, fmt.Errorf("build: controller: %w", err)
	}
	server := grpc.NewServer(
		grpc.UnaryInterceptor(grpcerrors.UnaryServerInterceptor),
		grpc.StreamInterceptor(grpcerrors.StreamServerInterceptor),
		grpc.MaxRecvMsgSize(maxMsgSize),
		grpc.MaxSendMsgSize(maxMsgSize),
		// Stop waits for the builds it cancels, so that their RUN
		// processes, mounts and sandboxes are gone when the engine closes.
		grpc.WaitForHandlers(true),
	)
	ctrl.Register(server)
	l := newPipeListener()
	go func() { _ = server.Serve(l) }()
	b.log.Info("build: BuildKit started", "root", root, "snapshotter", bw.Labels()["org.mobyproject.buildkit.worker.snapshotter"], "version", version.Version)
	return &engine{sessions: sm, listener: l, close: func() error {
		close(stop)
		b.stopServer(server)
		l.Close()
		return ctrl.Close()
	}}, nil
}

// buildsStopTimeout bounds how long closing the engine waits for the builds
// it cancels to clean up (kill their RUN processes, unmount, release their
// sandboxes); berthd's own shutdown allows 10s for its requests.
const buildsStopTimeout = 10 * time.Second

// stopServer ends every gRPC call (so every build) and waits, within
// buildsStopTimeout, for their handlers to return.
func (b *Builder) stopServer(server *grpc.Server) {
	stopped := make(chan struct{})
	go func() {
		server.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(buildsStopTimeout):
		b.log.Warn("build: builds still running after " + buildsStopTimeout.String() + "; closing BuildKit under them")
	}
}

// stampVersion gives BuildKit its module version (buildkitd's is set at
// link time), which buildx shows and registries see in the user agent.
func stampVersion() {
	if version.Version != "v0.0.0+unknown" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/moby/buildkit" {
				version.Version = m.Version
			}
		}
	}
}

// maxMsgSize bounds gRPC messages as buildkitd does (16 MiB).
const maxMsgSize = 16 << 20

// snapshotterFactory picks overlayfs, or the native (copying) snapshotter
// where overlayfs is unavailable.
func snapshotterFactory(root string) runc.SnapshotterFactory {
	if err := overlayutils.Supported(root); err == nil {
		return runc.SnapshotterFactory{Name: "overlayfs", New: func(root string) (ctdsnapshot.Snapshotter, error) {
			return overlay.NewSnapshotter(root, overlay.AsynchronousRemove)
		}}
	}
	return runc.SnapshotterFactory{Name: "native", New: native.NewSnapshotter}
}
