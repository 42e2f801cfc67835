package api

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
)

// fakeBackend is a small in-memory engine behind the real handlers. Its
// containers "run" their command without processes:
//
//	echo ARGS...   prints ARGS to stdout and exits 0
//	fail N         prints to stderr and exits N
//	cat            (attach) echoes stdin to stdout, "bye" on stderr at EOF
//	panic          makes ContainerStart panic
//	anything else  runs until stopped or killed
type fakeBackend struct {
	mu         sync.Mutex
	changed    chan struct{} // closed and replaced at every state change
	containers map[string]*fakeContainer
	images     map[string]*fakeImage // by id
	tags       map[string]string     // "repo:tag" -> image id
	seq        int
	networks   fakeNetworks              // fake_networks_test.go
	execs      fakeExecs                 // exec_test.go
	volumes    map[string]*volume.Volume // fake_volumes_test.go
	events     fakeEvents                // events_test.go
}

type fakeContainer struct {
	id, name   string
	config     container.Config
	hostConfig container.HostConfig
	imageID    string
	created    time.Time
	running    bool
	started    bool
	exitCode   int
	exits      int // how many times it stopped
	removed    bool
	logs       []LogMessage
	height     uint
	width      uint
}

type fakeImage struct {
	id      string
	created time.Time
	files   []string
	comment string
	changes []string
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		changed:    make(chan struct{}),
		containers: make(map[string]*fakeContainer),
		images:     make(map[string]*fakeImage),
		tags:       make(map[string]string),
	}
}

// notifyLocked wakes everything waiting for a state change.
func (f *fakeBackend) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func fakeDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// addImage stores an image tagged ref, for tests.
func (f *fakeBackend) addImage(ref string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "sha256:" + fakeDigest("image "+ref)
	f.images[id] = &fakeImage{id: id, created: time.Now()}
	f.tags[normalizeRef(ref)] = id
	return id
}

func normalizeRef(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i < 0 || strings.Contains(ref[i:], "/") {
		return ref + ":latest"
	}
	return ref
}

func (f *fakeBackend) imageLocked(name string) (*fakeImage, error) {
	if id, ok := f.tags[normalizeRef(name)]; ok {
		return f.images[id], nil
	}
	for id, img := range f.images {
		if name == id || strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), name) {
			return img, nil
		}
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such image: " + name)
}

func (f *fakeBackend) tagsOfLocked(id string) []string {
	var tags []string
	for ref, tid := range f.tags {
		if tid == id {
			tags = append(tags, ref)
		}
	}
	sort.Strings(tags)
	return tags
}

func (f *fakeBackend) containerLocked(name string) (*fakeContainer, error) {
	name = strings.TrimPrefix(name, "/")
	for _, c := range f.containers {
		if c.name == name || c.id == name {
			return c, nil
		}
	}
	for _, c := range f.containers {
		if strings.HasPrefix(c.id, name) {
			return c, nil
		}
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such container: " + name)
}

func (f *fakeBackend) SystemInfo(ctx context.Context) (*system.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info := &system.Info{
		ID: "FAKE", Name: "fakehost", ServerVersion: "0.1.0", OSType: "linux",
		OperatingSystem: "Fake OS", Architecture: runtime.GOARCH, NCPU: 2, Images: len(f.images),
		Driver: "fake",
	}
	for _, c := range f.containers {
		info.Containers++
		if c.running {
			info.ContainersRunning++
		} else {
			info.ContainersStopped++
		}
	}
	return info, nil
}

func (f *fakeBackend) SystemVersion(ctx context.Context) (*system.VersionResponse, error) {
	return &system.VersionResponse{
		Platform:  system.PlatformInfo{Name: "Berth Engine"},
		Version:   "0.1.0",
		Os:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		GoVersion: runtime.Version(),
		Components: []system.ComponentVersion{
			{Name: "Engine", Version: "0.1.0", Details: map[string]string{"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH}},
		},
	}, nil
}

func (f *fakeBackend) ContainerCreate(ctx context.Context, name string, req *container.CreateRequest) (container.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.imageLocked(req.Image)
	if err != nil {
		return container.CreateResponse{}, err
	}
	f.seq++
	id := fakeDigest(fmt.Sprint("container", f.seq))
	if name == "" {
		name = fmt.Sprintf("fake_%d", f.seq)
	}
	for _, c := range f.containers {
		if c.name == name {
			return container.CreateResponse{}, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"Conflict. The container name \"/%s\" is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", name, c.id))
		}
	}
	c := &fakeContainer{id: id, name: name, config: *req.Config, imageID: img.id, created: time.Now()}
	if req.HostConfig != nil {
		c.hostConfig = *req.HostConfig
	}
	f.containers[id] = c
	var warnings []string
	if c.config.Tty && c.config.OpenStdin {
		warnings = append(warnings, "fake warning")
	}
	return container.CreateResponse{ID: id, Warnings: warnings}, nil
}

func (c *fakeContainer) state() container.ContainerState {
	switch {
	case c.running:
		return container.StateRunning
	case c.started:
		return container.StateExited
	}
	return container.StateCreated
}

func (f *fakeBackend) ContainerList(ctx context.Context, opts ContainerListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []container.Summary
	for _, c := range f.containers {
		if !opts.All && !c.running && len(opts.Filters["status"]) == 0 {
			continue
		}
		if names := opts.Filters["name"]; len(names) > 0 && !slices.Contains(names, c.name) {
			continue
		}
		if st := opts.Filters["status"]; len(st) > 0 && !slices.Contains(st, string(c.state())) {
			continue
		}
		out = append(out, container.Summary{
			ID: c.id, Names: []string{"/" + c.name}, Image: c.config.Image, ImageID: c.imageID,
			Command: strings.Join(c.config.Cmd, " "), Created: c.created.Unix(),
			State: c.state(), Status: string(c.state()), Labels: c.config.Labels,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Names[0] < out[j].Names[0] })
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}

func (f *fakeBackend) ContainerInspect(ctx context.Context, name string, size bool) (*container.InspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return nil, err
	}
	cfg, hc := c.config, c.hostConfig
	resp := &container.InspectResponse{
		ID: c.id, Name: "/" + c.name, Created: c.created.Format(time.RFC3339Nano), Image: c.imageID,
		State:  &container.State{Status: c.state(), Running: c.running, ExitCode: c.exitCode},
		Config: &cfg, HostConfig: &hc,
	}
	if len(cfg.Cmd) > 0 {
		resp.Path, resp.Args = cfg.Cmd[0], cfg.Cmd[1:]
	}
	if size {
		n := int64(len(c.logs))
		resp.SizeRw = &n
	}
	return resp, nil
}

// logLocked appends a log line.
func (c *fakeContainer) logLocked(stream, line string) {
	c.logs = append(c.logs, LogMessage{Stream: stream, Line: []byte(line), Time: time.Now()})
}

// exitLocked records the end of the container's process.
func (f *fakeBackend) exitLocked(c *fakeContainer, code int) {
	c.running = false
	c.exitCode = code
	c.exits++
	f.notifyLocked()
}

func (f *fakeBackend) ContainerStart(ctx context.Context, name string, detachKeys string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return err
	}
	if c.running {
		return errdefs.ErrNotModified.WithMessage("container already started")
	}
	c.running, c.started = true, true
	f.notifyLocked()
	cmd := c.config.Cmd
	if len(cmd) == 0 {
		return nil
	}
	switch cmd[0] {
	case "echo":
		c.logLocked("stdout", strings.Join(cmd[1:], " ")+"\n")
		f.exitLocked(c, 0)
	case "fail":
		code := 1
		if len(cmd) > 1 {
			code, _ = strconv.Atoi(cmd[1])
		}
		c.logLocked("stderr", fmt.Sprintf("failing with %d\n", code))
		f.exitLocked(c, code)
	case "panic":
		panic("fake backend panics on purpose")
	}
	return nil
}

func (f *fakeBackend) ContainerStop(ctx context.Context, name string, signal string, timeout *int) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return false, err
	}
	if !c.running {
		return true, nil
	}
	f.exitLocked(c, 143)
	return false, nil
}

func (f *fakeBackend) ContainerRestart(ctx context.Context, name string, signal string, timeout *int) error {
	if _, err := f.ContainerStop(ctx, name, signal, timeout); err != nil {
		return err
	}
	return f.ContainerStart(ctx, name, "")
}

func (f *fakeBackend) ContainerKill(ctx context.Context, name string, signal string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return err
	}
	if !c.running {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot kill container: %s: container %s is not running", name, c.id))
	}
	f.exitLocked(c, 137)
	return nil
}

func (f *fakeBackend) ContainerWait(ctx context.Context, name string, condition container.WaitCondition) (<-chan container.WaitResponse, error) {
	f.mu.Lock()
	c, err := f.containerLocked(name)
	if err != nil {
		f.mu.Unlock()
		return nil, err
	}
	exits := c.exits
	f.mu.Unlock()
	done := func() (bool, int) {
		switch condition {
		case container.WaitConditionRemoved:
			return c.removed, c.exitCode
		case container.WaitConditionNextExit:
			return c.exits > exits, c.exitCode
		}
		return !c.running, c.exitCode
	}
	out := make(chan container.WaitResponse, 1)
	go func() {
		defer close(out)
		for {
			f.mu.Lock()
			ok, code := done()
			changed := f.changed
			f.mu.Unlock()
			if ok {
				out <- container.WaitResponse{StatusCode: int64(code)}
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (f *fakeBackend) ContainerRemove(ctx context.Context, name string, force, removeVolumes, removeLinks bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return err
	}
	if c.running && !force {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf(
			"cannot remove container %q: container is running: stop the container before removing or force remove", "/"+c.name))
	}
	if c.running {
		f.exitLocked(c, 137)
	}
	c.removed = true
	delete(f.containers, c.id)
	f.notifyLocked()
	return nil
}

func (f *fakeBackend) ContainerLogs(ctx context.Context, name string, opts LogsOptions) (<-chan LogMessage, bool, error) {
	f.mu.Lock()
	c, err := f.containerLocked(name)
	f.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	out := make(chan LogMessage)
	go func() {
		defer close(out)
		next := 0
		if opts.Tail != "all" {
			n, _ := strconv.Atoi(opts.Tail)
			f.mu.Lock()
			next = max(0, len(c.logs)-n)
			f.mu.Unlock()
		}
		for {
			f.mu.Lock()
			pending := slices.Clone(c.logs[next:])
			next = len(c.logs)
			running, changed := c.running, f.changed
			f.mu.Unlock()
			for _, m := range pending {
				if (!opts.Since.IsZero() && !m.Time.After(opts.Since)) || (!opts.Until.IsZero() && m.Time.After(opts.Until)) {
					continue
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			}
			if !opts.Follow || !running {
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, c.config.Tty, nil
}

func (f *fakeBackend) ContainerAttach(ctx context.Context, name string, opts AttachOptions) error {
	// Take the state before GetStreams answers the client: once it has its
	// 101 the client may start the container (docker run does), and the
	// exit must not be missed.
	f.mu.Lock()
	c, err := f.containerLocked(name)
	var logs []LogMessage
	var next, exits int
	var wasRunning bool
	if err == nil {
		logs = slices.Clone(c.logs)
		next, exits, wasRunning = len(c.logs), c.exits, c.running
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	streams, err := opts.GetStreams(!c.config.Tty)
	if err != nil {
		return err
	}
	if opts.Logs {
		for _, m := range logs {
			w := streams.Stdout
			if m.Stream == "stderr" {
				w = streams.Stderr
			}
			if _, err := w.Write(m.Line); err != nil {
				return err
			}
		}
	}
	if !opts.Stream {
		return nil
	}
	if opts.UseStdin && streams.Stdin != nil {
		defer streams.Stdin.Close()
		sc := bufio.NewScanner(streams.Stdin)
		for sc.Scan() {
			line := sc.Text() + "\n"
			f.mu.Lock()
			c.logLocked("stdout", line)
			f.mu.Unlock()
			if _, err := streams.Stdout.Write([]byte(line)); err != nil {
				return err
			}
		}
		// Output after the client half-closed its side.
		_, err := streams.Stderr.Write([]byte("bye\n"))
		return err
	}
	// Stream the output until the container's process ends: the current
	// one if it runs, else the next (docker run attaches before starting).
	for {
		f.mu.Lock()
		pending := slices.Clone(c.logs[next:])
		next = len(c.logs)
		ended := c.exits > exits || (wasRunning && !c.running) || c.removed
		changed := f.changed
		f.mu.Unlock()
		for _, m := range pending {
			w := streams.Stdout
			if m.Stream == "stderr" {
				w = streams.Stderr
			}
			if _, err := w.Write(m.Line); err != nil {
				return err
			}
		}
		if ended {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *fakeBackend) ContainerResize(ctx context.Context, name string, height, width uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return err
	}
	if !c.running {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.id))
	}
	c.height, c.width = height, width
	return nil
}

func (f *fakeBackend) ContainerRename(ctx context.Context, name, newName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return err
	}
	newName = strings.TrimPrefix(newName, "/")
	if newName == "" {
		return errdefs.ErrInvalidArgument.WithMessage("Neither old nor new names may be empty")
	}
	if other, err := f.containerLocked(newName); err == nil && other != c {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Conflict. The container name %q is already in use", "/"+newName))
	}
	c.name = newName
	return nil
}

func (f *fakeBackend) ImageList(ctx context.Context, opts ImageListOptions) ([]image.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []image.Summary
	for id, img := range f.images {
		tags := f.tagsOfLocked(id)
		if refs := opts.Filters["reference"]; len(refs) > 0 && !slices.ContainsFunc(tags, func(t string) bool {
			return slices.Contains(refs, t) || slices.Contains(refs, strings.TrimSuffix(t, ":latest")) || slices.Contains(refs, t[:strings.LastIndexByte(t, ':')])
		}) {
			continue
		}
		out = append(out, image.Summary{ID: id, RepoTags: tags, RepoDigests: []string{}, Created: img.created.Unix(), Size: int64(len(img.files))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeBackend) ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.imageLocked(name)
	if err != nil {
		return nil, err
	}
	return &image.InspectResponse{ID: img.id, RepoTags: f.tagsOfLocked(img.id), RepoDigests: []string{}, Comment: img.comment}, nil
}

func (f *fakeBackend) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.imageLocked(name)
	if err != nil {
		return nil, err
	}
	return []image.HistoryResponseItem{{ID: img.id, Created: img.created.Unix(), CreatedBy: strings.Join(img.changes, "; "), Comment: img.comment}}, nil
}

func (f *fakeBackend) ImageTag(ctx context.Context, source, repo, tag string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.imageLocked(source)
	if err != nil {
		return err
	}
	if repo == "" {
		return errdefs.ErrInvalidArgument.WithMessage("repository name must have at least one component")
	}
	if tag == "" {
		tag = "latest"
	}
	f.tags[repo+":"+tag] = img.id
	return nil
}

func (f *fakeBackend) ImageDelete(ctx context.Context, name string, force, noPrune bool) ([]image.DeleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.imageLocked(name)
	if err != nil {
		return nil, err
	}
	for _, c := range f.containers {
		if c.imageID == img.id && !force {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", name, c.id[:12], img.id[7:19]))
		}
	}
	var out []image.DeleteResponse
	if ref := normalizeRef(name); f.tags[ref] == img.id {
		delete(f.tags, ref)
		out = append(out, image.DeleteResponse{Untagged: ref})
	}
	if len(f.tagsOfLocked(img.id)) == 0 {
		delete(f.images, img.id)
		out = append(out, image.DeleteResponse{Deleted: img.id})
	}
	return out, nil
}

// readTar lists the files of a tarball.
func readTar(r io.Reader) (map[string][]byte, []string, error) {
	tr := tar.NewReader(r)
	files := map[string][]byte{}
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, names, nil
		}
		if err != nil {
			return nil, nil, errdefs.ErrInvalidArgument.WithMessage("invalid tar archive: " + err.Error())
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, errdefs.ErrInvalidArgument.WithMessage("invalid tar archive: " + err.Error())
		}
		files[h.Name] = data
		names = append(names, h.Name)
	}
}

func writeMessage(out io.Writer, m jsonstream.Message) error {
	return json.NewEncoder(out).Encode(&m)
}

func (f *fakeBackend) ImageImport(ctx context.Context, src io.Reader, opts ImageImportOptions, out io.Writer) error {
	_, names, err := readTar(src)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("empty archive")
	}
	f.mu.Lock()
	id := "sha256:" + fakeDigest(strings.Join(names, "\n")+opts.Message)
	f.images[id] = &fakeImage{id: id, created: time.Now(), files: names, comment: opts.Message, changes: opts.Changes}
	// Clients send "repo=name:tag" with no tag, or the tag apart.
	if opts.Repo != "" && opts.Tag != "" {
		f.tags[opts.Repo+":"+opts.Tag] = id
	} else if opts.Repo != "" {
		f.tags[normalizeRef(opts.Repo)] = id
	}
	f.mu.Unlock()
	return writeMessage(out, jsonstream.Message{Status: id})
}

// fakeManifest is the manifest.json of the fake's docker-archive.
type fakeManifest struct {
	Config   string
	RepoTags []string
}

func (f *fakeBackend) ImageLoad(ctx context.Context, src io.Reader, quiet bool, out io.Writer) error {
	tr := tar.NewReader(src)
	var manifest []fakeManifest
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errdefs.ErrInvalidArgument.WithMessage("invalid tar archive: " + err.Error())
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = string(data)
		if h.Name == "manifest.json" {
			if err := json.Unmarshal(data, &manifest); err != nil {
				return errdefs.ErrInvalidArgument.WithMessage("invalid manifest.json: " + err.Error())
			}
		}
		if !quiet {
			if err := writeMessage(out, jsonstream.Message{Status: "Loading", ID: h.Name}); err != nil {
				return err
			}
		}
	}
	if manifest == nil {
		return errdefs.ErrInvalidArgument.WithMessage("no manifest.json in archive")
	}
	for _, m := range manifest {
		id := strings.TrimSuffix(m.Config, ".json")
		f.mu.Lock()
		f.images[id] = &fakeImage{id: id, created: time.Now(), comment: files[m.Config]}
		for _, t := range m.RepoTags {
			f.tags[t] = id
		}
		f.mu.Unlock()
		for _, t := range m.RepoTags {
			if err := writeMessage(out, jsonstream.Message{Stream: "Loaded image: " + t + "\n"}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fakeBackend) ImageSave(ctx context.Context, names []string, w io.Writer) error {
	if slices.Contains(names, "broken-save") {
		if _, err := w.Write(make([]byte, 64<<10)); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}
	f.mu.Lock()
	var manifest []fakeManifest
	configs := map[string]string{}
	for _, n := range names {
		img, err := f.imageLocked(n)
		if err != nil {
			f.mu.Unlock()
			return err
		}
		manifest = append(manifest, fakeManifest{Config: img.id + ".json", RepoTags: f.tagsOfLocked(img.id)})
		configs[img.id+".json"] = img.comment
	}
	f.mu.Unlock()
	tw := tar.NewWriter(w)
	mj, _ := json.Marshal(manifest)
	add := func(name, data string) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write([]byte(data))
		return err
	}
	for name, data := range configs {
		if err := add(name, data); err != nil {
			return err
		}
	}
	if err := add("manifest.json", string(mj)); err != nil {
		return err
	}
	return tw.Close()
}
