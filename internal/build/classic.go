package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config/configfile"
	clitypes "github.com/docker/cli/cli/config/types"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/filesync"
	bkentitlements "github.com/moby/buildkit/util/entitlements"
	digest "github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/berth-project/berth/internal/backend"
)

// The classic POST /build runs on the same embedded BuildKit as /grpc:
// the dockerfile frontend solves, the "moby" exporter lands the image in
// berth's store. Version 1 (DOCKER_BUILDKIT=0 docker build, docker-compose
// 1.x, the Python SDK) sends the context as the body and reads docker's
// classic stream, rendered here from BuildKit's progress; version 2 (the
// docker CLI 20.10 with BuildKit) serves the context through its own
// session and reads BuildKit's progress as "moby.buildkit.trace" messages,
// as dockerd sends them.

// classicBuilds tracks the running builds by their client-chosen buildid,
// for POST /build/cancel.
type classicBuilds struct {
	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	// cleaned is set once the contexts a killed engine left are removed.
	cleaned sync.Once
	uploads uploads
}

// uploadPrefix marks the buildid of a request that only uploads the
// context of another build (the docker CLI 20.10's `docker build -` with
// BuildKit).
const uploadPrefix = "upload-request:"

// uploadWait bounds how long either half of an uploaded build waits for
// the other, as dockerd.
const uploadWait = 5 * time.Second

// uploads pairs builds with the requests that upload their contexts.
type uploads struct {
	mu    sync.Mutex
	slots map[string]chan upload
}

// upload is a context body handed to its build, and how the build says it
// has read it.
type upload struct {
	body io.Reader
	done chan error
}

func (u *uploads) slot(id string) chan upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.slots == nil {
		u.slots = make(map[string]chan upload)
	}
	ch := u.slots[id]
	if ch == nil {
		ch = make(chan upload)
		u.slots[id] = ch
	}
	return ch
}

func (u *uploads) forget(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.slots, id)
}

// give hands body to the build id and waits until it has read it.
func (u *uploads) give(ctx context.Context, id string, body io.Reader) error {
	waitCtx, cancel := context.WithTimeout(ctx, uploadWait)
	defer cancel()
	up := upload{body: body, done: make(chan error, 1)}
	select {
	case u.slot(id) <- up:
	case <-waitCtx.Done():
		u.forget(id)
		return fmt.Errorf("no build %s is waiting for its context: %w", id, waitCtx.Err())
	}
	// The build reads the body for as long as it takes.
	select {
	case err := <-up.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait returns the context uploaded for the build id, and the func that
// tells the uploader it was read.
func (u *uploads) wait(ctx context.Context, id string) (io.Reader, func(error), error) {
	if id == "" {
		return nil, nil, errdefs.ErrInvalidArgument.WithMessage("an uploaded context needs a buildid")
	}
	defer u.forget(id)
	ctx, cancel := context.WithTimeout(ctx, uploadWait)
	defer cancel()
	select {
	case up := <-u.slot(id):
		return up.body, func(err error) { up.done <- err }, nil
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("the context of build %s was not uploaded: %w", id, ctx.Err())
	}
}

// register makes ctx cancellable by id; the returned func forgets it.
func (cb *classicBuilds) register(ctx context.Context, id string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if id == "" {
		return ctx, cancel
	}
	cb.mu.Lock()
	if cb.cancels == nil {
		cb.cancels = make(map[string]context.CancelFunc)
	}
	cb.cancels[id] = cancel
	cb.mu.Unlock()
	return ctx, func() {
		cb.mu.Lock()
		delete(cb.cancels, id)
		cb.mu.Unlock()
		cancel()
	}
}

// cancel cancels the build registered as id; an unknown id is not an
// error (the build may just have ended), as in dockerd.
func (cb *classicBuilds) cancel(id string) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if c := cb.cancels[id]; c != nil {
		c()
	}
}

// BuildCancel cancels the running build with the client-chosen id.
func (b *Builder) BuildCancel(ctx context.Context, id string) error {
	b.classic.cancel(id)
	return nil
}

// Build runs a classic POST /build and writes docker's JSON messages to out.
func (b *Builder) Build(ctx context.Context, opts backend.BuildOptions, body io.Reader, out io.Writer) error {
	ctx, done := b.classic.register(ctx, opts.BuildID)
	defer done()
	b.classic.cleaned.Do(func() {
		if err := removeStaleContexts(b.cfg.Root); err != nil {
			b.log.Warn("remove the contexts of earlier builds", "err", err)
		}
	})
	if id, ok := strings.CutPrefix(opts.BuildID, uploadPrefix); ok {
		return b.classic.uploads.give(ctx, id, body)
	}
	cb := &classicBuild{opts: opts, root: b.cfg.Root, connect: b.Client, network: b.networkModeAttrs, uploads: &b.classic.uploads}
	if hg, ok := b.cfg.Sandboxes.(HostGateway); ok {
		cb.hostGateway = hg.HostGatewayIP()
	}
	if b.mirror != nil {
		cb.imageID = b.mirror.servedImageID
	}
	return cb.run(ctx, body, out)
}

// classicBuild is one POST /build.
type classicBuild struct {
	opts    backend.BuildOptions
	root    string // where contexts are extracted
	connect func(context.Context) (*client.Client, error)
	// network gives the frontend attributes and entitlements of
	// networkmode (Builder.networkModeAttrs); nil knows only the
	// default, host and none.
	network func(mode string) (map[string]string, []string, error)
	// hostGateway is the address extrahosts' "host-gateway" maps to.
	hostGateway string
	// imageID names the local image of a base manifest (mirror's
	// servedImageID), for the FROM's result; nil shows vertex ids.
	imageID func(manifest digest.Digest) (digest.Digest, bool)

	entitlements []string // those networkmode needs
	// uploads pairs a version 2 build with the request that uploads its
	// context; ownDirs is that context, served by the build's session.
	uploads *uploads
	ownDirs filesync.StaticDirSource
}

func (cb *classicBuild) run(ctx context.Context, body io.Reader, out io.Writer) error {
	names, err := exportNames(cb.opts.Tags)
	if err != nil {
		return err
	}
	attrs, err := frontendAttrs(cb.opts, cb.hostGateway)
	if err != nil {
		return err
	}
	if cb.network != nil {
		netAttrs, ents, err := cb.network(cb.opts.NetworkMode)
		if err != nil {
			return err
		}
		delete(attrs, "force-network-mode")
		maps.Copy(attrs, netAttrs)
		cb.entitlements = ents
	} else if cb.opts.NetworkMode == "host" {
		cb.entitlements = []string{string(bkentitlements.EntitlementNetworkHost)}
	}
	if cb.opts.Version == "2" {
		return cb.runV2(ctx, attrs, names, out)
	}

	// Version 1: the context, and the Dockerfile that numbers the steps.
	var plan *classicPlan
	var dirs filesync.StaticDirSource
	sharedKey := identity.NewID()
	switch remote := cb.opts.RemoteContext; {
	case remote == "client-session":
		return errdefs.ErrInvalidArgument.WithMessage("experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead")
	case remote != "":
		// A Git or HTTP context, which the frontend fetches itself.
		attrs["context"] = remote
	default:
		dir, err := receiveContext(ctx, cb.root, body, cb.opts.Dockerfile)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		name, dockerfile, err := readDockerfile(dir, cb.opts.Dockerfile)
		if err != nil {
			return err
		}
		attrs["filename"] = name
		if plan, err = newClassicPlan(name, dockerfile, cb.opts.Target, cb.opts.Labels); err != nil {
			return err
		}
		fsys, err := fsutil.NewFS(dir)
		if err != nil {
			return err
		}
		dirs = filesync.StaticDirSource{"context": fsys, "dockerfile": fsys}
		if len(names) > 0 {
			// Builds of one image share their context's snapshot, so a
			// rebuild transfers only the files that changed.
			sum := sha256.Sum256([]byte(names[0] + "\x00" + name))
			sharedKey = "classic-" + hex.EncodeToString(sum[:8])
		}
	}

	msgs := newMessageWriter(out)
	var quiet *bytes.Buffer
	if cb.opts.Quiet {
		// As dockerd: the output is kept and shown only if the build fails.
		quiet = &bytes.Buffer{}
		msgs = newMessageWriter(&limitedWriter{w: quiet, n: quietOutputLimit})
	}
	render := newClassicRenderer(plan, msgs)
	render.imageID = cb.imageID
	if err := render.start(); err != nil {
		return err
	}

	c, err := cb.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	sessionID, stopSession, err := cb.startSession(ctx, c, sharedKey, dirs)
	if err != nil {
		return err
	}
	req := cb.solveRequest(attrs, names, sessionID)
	resp, err := solve(ctx, c, req, func(sr *controlapi.StatusResponse) error {
		return render.handle(client.NewSolveStatus(sr))
	})
	stopSession()
	if err != nil {
		err = classicError(err, render)
		if quiet != nil {
			_, _ = out.Write(quiet.Bytes())
		}
		return err
	}

	id := imageID(resp)
	if quiet != nil {
		return newMessageWriter(out).stream(id.String() + "\n")
	}
	if err := render.finish(id); err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	if err := msgs.aux("", map[string]string{"ID": id.String()}); err != nil {
		return err
	}
	if err := msgs.stream("Successfully built " + shortID(id) + "\n"); err != nil {
		return err
	}
	for _, t := range cb.opts.Tags {
		if ref, err := reference.ParseNormalizedNamed(t); err == nil {
			if err := msgs.stream("Successfully tagged " + reference.FamiliarString(reference.TagNameOnly(ref)) + "\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

// startSession opens the build's own session, which serves dirs (the
// extracted context) and X-Registry-Config's credentials; stop ends it.
func (cb *classicBuild) startSession(ctx context.Context, c *client.Client, sharedKey string, dirs filesync.StaticDirSource) (id string, stop func(), err error) {
	s, err := session.NewSession(ctx, sharedKey)
	if err != nil {
		return "", nil, err
	}
	if len(dirs) > 0 {
		s.Allow(filesync.NewFSSyncProvider(dirs))
	}
	if len(cb.opts.AuthConfigs) > 0 {
		s.Allow(authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(authConfigFile(cb.opts)),
		}))
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(runCtx, c.Dialer())
	}()
	return s.ID(), func() {
		s.Close()
		cancel()
		<-done
	}, nil
}

// runV2 is a build whose client serves the context through its session
// (the docker CLI 20.10 with DOCKER_BUILDKIT=1): BuildKit's progress goes
// to the client as is, in "moby.buildkit.trace" messages it renders
// itself.
func (cb *classicBuild) runV2(ctx context.Context, attrs map[string]string, names []string, out io.Writer) error {
	switch remote := cb.opts.RemoteContext; remote {
	case "client-session", "":
		if cb.opts.SessionID == "" {
			return errdefs.ErrInvalidArgument.WithMessage("a version 2 build needs the session of its client")
		}
	case "upload-request":
		// docker build - < context.tar: the context comes in a second
		// request (buildid=upload-request:<id>); it is served from this
		// build's own session, like a version 1 context.
		body, done, err := cb.uploads.wait(ctx, cb.opts.BuildID)
		if err != nil {
			return err
		}
		dir, err := receiveContext(ctx, cb.root, body, cb.opts.Dockerfile)
		done(err)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		name, _, err := readDockerfile(dir, cb.opts.Dockerfile)
		if err != nil {
			return err
		}
		attrs["filename"] = name
		fsys, err := fsutil.NewFS(dir)
		if err != nil {
			return err
		}
		cb.ownDirs = filesync.StaticDirSource{"context": fsys, "dockerfile": fsys}
	default:
		attrs["context"] = remote
	}
	if len(cb.opts.Outputs) > 1 {
		return errdefs.ErrInvalidArgument.WithMessage("multiple outputs not supported")
	}
	msgs := newMessageWriter(out)
	var quiet *bytes.Buffer
	if cb.opts.Quiet {
		// As dockerd: the progress is kept and sent only if the build
		// fails; the docker CLI 20.10 takes the stream as the image id.
		quiet = &bytes.Buffer{}
		msgs = newMessageWriter(&limitedWriter{w: quiet, n: quietOutputLimit})
	}
	c, err := cb.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	sessionID := cb.opts.SessionID
	if cb.ownDirs != nil {
		id, stop, err := cb.startSession(ctx, c, identity.NewID(), cb.ownDirs)
		if err != nil {
			return err
		}
		defer stop()
		sessionID = id
	}
	req := cb.solveRequest(attrs, names, sessionID)
	resp, err := solve(ctx, c, req, func(sr *controlapi.StatusResponse) error {
		dt, err := sr.MarshalVT()
		if err != nil {
			return err
		}
		return msgs.aux("moby.buildkit.trace", dt)
	})
	if err != nil {
		if quiet != nil {
			_, _ = out.Write(quiet.Bytes())
		}
		return &wordedError{err: err, msg: cleanMessage(err.Error())}
	}
	if t := req.Exporters; len(t) == 0 || (t[0].Type != exporterMoby && t[0].Type != client.ExporterImage) {
		return nil
	}
	id := imageID(resp)
	if id == "" {
		return errors.New("missing image id")
	}
	if quiet != nil {
		return newMessageWriter(out).stream(id.String() + "\n")
	}
	return msgs.aux("moby.image.id", map[string]string{"ID": id.String()})
}

// solveRequest is the request for the dockerfile frontend, exported by
// the "moby" exporter under names (or the version 2 client's output).
func (cb *classicBuild) solveRequest(attrs map[string]string, names []string, sessionID string) *controlapi.SolveRequest {
	exp := &controlapi.Exporter{Type: exporterMoby, Attrs: map[string]string{}}
	if len(cb.opts.Outputs) > 0 {
		o := cb.opts.Outputs[0]
		exp = &controlapi.Exporter{Type: o.Type, Attrs: o.Attrs}
		if exp.Attrs == nil {
			exp.Attrs = map[string]string{}
		}
	}
	var exporters []*controlapi.Exporter
	if exp.Type != "cacheonly" {
		if (exp.Type == exporterMoby || exp.Type == client.ExporterImage) && len(names) > 0 {
			exp.Attrs["name"] = strings.Join(names, ",")
		}
		exporters = append(exporters, exp)
	}
	cache := &controlapi.CacheOptions{}
	if v := cb.opts.BuildArgs["BUILDKIT_INLINE_CACHE"]; v != nil {
		if ok, _ := strconv.ParseBool(*v); ok {
			cache.Exports = append(cache.Exports, &controlapi.CacheOptionsEntry{Type: "inline"})
		}
	}
	req := &controlapi.SolveRequest{
		Ref:           identity.NewID(),
		Exporters:     exporters,
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		Session:       sessionID,
		Cache:         cache,
	}
	if len(exporters) > 0 {
		req.ExporterDeprecated = exporters[0].Type
		req.ExporterAttrsDeprecated = exporters[0].Attrs
	}
	req.Entitlements = append(req.Entitlements, cb.entitlements...)
	return req
}

// frontendAttrs are the dockerfile frontend's options for a build's query,
// as dockerd's builder-next sets them; hostGateway is the address of
// extrahosts' "host-gateway".
func frontendAttrs(opts backend.BuildOptions, hostGateway string) (map[string]string, error) {
	attrs := map[string]string{
		"image-resolve-mode": "default",
	}
	if opts.Target != "" {
		attrs["target"] = opts.Target
	}
	if opts.Dockerfile != "" && opts.Dockerfile != "." {
		attrs["filename"] = opts.Dockerfile
	}
	if len(opts.CacheFrom) > 0 {
		attrs["cache-from"] = strings.Join(opts.CacheFrom, ",")
	}
	for k, v := range opts.BuildArgs {
		// A null build arg (named, unset in the client's environment) is
		// not passed: the Dockerfile's default applies.
		if v != nil {
			attrs["build-arg:"+k] = *v
		}
	}
	for k, v := range opts.Labels {
		attrs["label:"+k] = v
	}
	if opts.NoCache {
		attrs["no-cache"] = ""
	}
	if opts.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	if opts.Platform != "" {
		if _, err := platforms.Parse(opts.Platform); err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		attrs["platform"] = opts.Platform
	}
	switch opts.NetworkMode {
	case "host", "none":
		attrs["force-network-mode"] = opts.NetworkMode
	}
	if len(opts.ExtraHosts) > 0 {
		hosts := make([]string, 0, len(opts.ExtraHosts))
		for _, h := range opts.ExtraHosts {
			host, ip, ok := strings.Cut(h, ":")
			if !ok || host == "" || ip == "" {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid host %s", h))
			}
			if ip == "host-gateway" {
				if hostGateway == "" {
					return nil, errdefs.ErrInvalidArgument.WithMessage("unable to derive the IP value for host-gateway")
				}
				ip = hostGateway
			}
			hosts = append(hosts, host+"="+ip)
		}
		attrs["add-hosts"] = strings.Join(hosts, ",")
	}
	if opts.ShmSize > 0 {
		attrs["shm-size"] = strconv.FormatInt(opts.ShmSize, 10)
	}
	if len(opts.Ulimits) > 0 {
		attrs["ulimit"] = strings.Join(opts.Ulimits, ",")
	}
	return attrs, nil
}

// exportNames are the tags as the exporter names its image: normalized
// ("docker.io/library/app:latest"), deduplicated; a tag with a digest is
// refused, as by dockerd.
func exportNames(tags []string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, t := range tags {
		ref, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference format: %s", t))
		}
		if _, ok := ref.(reference.Digested); ok {
			return nil, errdefs.ErrInvalidArgument.WithMessage("build tag cannot contain a digest")
		}
		name := reference.TagNameOnly(ref).String()
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names, nil
}

// readDockerfile reads the Dockerfile from an extracted context: name is
// its path in the context ("Dockerfile" by default, then "dockerfile", as
// docker falls back).
func readDockerfile(dir, name string) (string, []byte, error) {
	requested := name
	if name == "" || name == "." {
		name = defaultDockerfile
	}
	clean, err := contextPath(name)
	if err != nil {
		return "", nil, err
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	dt, err := r.ReadFile(clean)
	if errors.Is(err, fs.ErrNotExist) && clean == defaultDockerfile {
		if lower, lerr := r.ReadFile(strings.ToLower(clean)); lerr == nil {
			return strings.ToLower(clean), lower, nil
		}
	}
	if errors.Is(err, fs.ErrNotExist) || (err != nil && strings.Contains(err.Error(), "path escapes")) {
		if requested == "" {
			requested = defaultDockerfile
		}
		return "", nil, fmt.Errorf("Cannot locate specified Dockerfile: %s", requested) //nolint:staticcheck // docker's message
	}
	if err != nil {
		return "", nil, err
	}
	return path.Clean(clean), dt, nil
}

// authConfigFile holds X-Registry-Config's credentials for the session's
// auth provider.
func authConfigFile(opts backend.BuildOptions) *configfile.ConfigFile {
	cf := configfile.New("")
	keys := make([]string, 0, len(opts.AuthConfigs))
	for k := range opts.AuthConfigs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := opts.AuthConfigs[k]
		cf.AuthConfigs[k] = clitypes.AuthConfig{
			Username:      a.Username,
			Password:      a.Password,
			Auth:          a.Auth,
			ServerAddress: a.ServerAddress,
			IdentityToken: a.IdentityToken,
			RegistryToken: a.RegistryToken,
		}
	}
	return cf
}

// imageID is the built image's id (its config's digest) from the
// exporter's response.
func imageID(resp *controlapi.SolveResponse) digest.Digest {
	if resp == nil {
		return ""
	}
	if v := resp.ExporterResponse["containerimage.config.digest"]; v != "" {
		return digest.Digest(v)
	}
	return digest.Digest(resp.ExporterResponse["containerimage.digest"])
}

// statusDrain bounds how long the progress may trail a finished solve.
const statusDrain = 5 * time.Second

// solve runs req and passes its progress to onStatus until both end. The
// solve ends with ctx (the request: a client that goes away cancels its
// build); the progress stream ends with the solve.
func solve(ctx context.Context, c *client.Client, req *controlapi.SolveRequest, onStatus func(*controlapi.StatusResponse) error) (*controlapi.SolveResponse, error) {
	statusCtx, cancelStatus := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStatus()
	stopStatus := context.AfterFunc(ctx, cancelStatus)
	defer stopStatus()

	eg, egCtx := errgroup.WithContext(ctx)
	var resp *controlapi.SolveResponse
	solved := make(chan struct{})
	eg.Go(func() error {
		defer close(solved)
		var err error
		resp, err = c.ControlClient().Solve(egCtx, req)
		return err
	})
	eg.Go(func() error {
		// The status stream ends on its own when the job does; if it
		// lingers after the solve, give up on it.
		go func() {
			select {
			case <-solved:
				select {
				case <-time.After(statusDrain):
					cancelStatus()
				case <-statusCtx.Done():
				}
			case <-statusCtx.Done():
			}
		}()
		stream, err := c.ControlClient().Status(statusCtx, &controlapi.StatusRequest{Ref: req.Ref})
		if err != nil {
			return nil
		}
		for {
			sr, err := stream.Recv()
			if err != nil {
				return nil
			}
			if err := onStatus(sr); err != nil {
				return err
			}
		}
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return resp, nil
}

// quietOutputLimit bounds the output q=1 keeps to show if the build fails.
const quietOutputLimit = 4 << 20

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	n, err := l.w.Write(q)
	l.n -= n
	if err != nil {
		return n, err
	}
	return len(p), nil
}
