package daemon

import (
	"context"
	"github.com/distribution/reference"
	imagetypes "github.com/moby/moby/api/types/image"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	eventlog "github.com/berth-project/berth/internal/events"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/volume"
)

// logEvent records an engine event: the one place every daemon file emits
// through. Use the helpers below for containers, images, networks and
// volumes: they fill docker's attributes. A daemon built without a log
// (a unit test's literal) records nothing.
func (d *Daemon) logEvent(typ events.Type, action events.Action, actor events.Actor) {
	if d.events == nil {
		return
	}
	d.events.Log(typ, action, actor)
}

// logContainerEvent records a container event with docker's attributes:
// the container's labels, "image" (as the user named it) and "name", plus
// extra (exitCode for die, signal for kill, ...). c must not be locked by
// another goroutine that waits on the caller.
func (d *Daemon) logContainerEvent(c *container.Container, action events.Action, extra map[string]string) {
	d.logEvent(events.ContainerEventType, action, containerActor(c, extra))
}

// containerActor is c's actor in docker's events: its labels, "image" and
// "name", plus extra. c is locked (or not shared yet).
func containerActor(c *container.Container, extra map[string]string) events.Actor {
	attrs := make(map[string]string, len(extra)+4)
	if c.Config != nil {
		maps.Copy(attrs, c.Config.Labels)
		if c.Config.Image != "" {
			attrs["image"] = c.Config.Image
		}
	}
	maps.Copy(attrs, extra)
	attrs["name"] = strings.TrimPrefix(c.Name, "/")
	return events.Actor{ID: c.ID, Attributes: attrs}
}

// logImageEvent records an image event: the actor is imageID (or, for
// pull and push, the reference), with the image's labels and "name" (the
// reference the action was about, when there is one). The labels are read
// while the image still exists (not for delete).
func (d *Daemon) logImageEvent(ctx context.Context, imageID, refName string, action events.Action) {
	if d.events == nil {
		return
	}
	attrs := map[string]string{}
	if action != events.ActionDelete {
		if img, err := d.images.Get(context.WithoutCancel(ctx), imageID); err == nil {
			maps.Copy(attrs, img.Config.Config.Labels)
		}
	}
	if refName != "" {
		attrs["name"] = refName
	}
	d.logEvent(events.ImageEventType, action, events.Actor{ID: imageID, Attributes: attrs})
}

// logNetworkEvent records a network event with docker's "name" and "type"
// (the driver), plus extra ("container" for connect and disconnect).
func (d *Daemon) logNetworkEvent(n *network.Network, action events.Action, extra map[string]string) {
	attrs := make(map[string]string, len(extra)+2)
	maps.Copy(attrs, extra)
	attrs["name"] = n.Name
	attrs["type"] = n.Driver
	d.logEvent(events.NetworkEventType, action, events.Actor{ID: n.ID, Attributes: attrs})
}

// logVolumeEvent records a volume event; attrs are docker's for the action
// ("driver" always; mount adds "container", "destination", "propagation",
// "read/write"; unmount adds "container").
func (d *Daemon) logVolumeEvent(name string, action events.Action, attrs map[string]string) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	d.logEvent(events.VolumeEventType, action, events.Actor{ID: name, Attributes: attrs})
}

// SubscribeEvents returns the recorded events between since and until that
// pass filters, and a subscription to the live ones; the caller closes it.
func (d *Daemon) SubscribeEvents(ctx context.Context, since, until time.Time, filters backend.Filters) ([]events.Message, backend.EventSubscription) {
	return d.events.Subscribe(since, until, eventlog.Filter(filters))
}

// lockAndLogContainerEvent is logContainerEvent for a caller that does not
// hold c's lock.
func (d *Daemon) lockAndLogContainerEvent(c *container.Container, action events.Action, extra map[string]string) {
	c.Lock()
	defer c.Unlock()
	d.logContainerEvent(c, action, extra)
}

// logPruneEvent records a prune of typ's objects (no actor), with the space
// reclaimed, as dockerd does after every prune.
func (d *Daemon) logPruneEvent(typ events.Type, reclaimed uint64) {
	d.logEvent(typ, events.ActionPrune, events.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(reclaimed, 10)}})
}

// lifecycle remembers, per container, the run whose start and exit were
// already logged, so that the supervisor's state changes (host.Changed)
// become exactly one start and one die per run.
type lifecycle struct {
	mu      sync.Mutex
	started map[string]time.Time // id -> StartedAt of the run whose start was logged
	status  map[string]containertypes.ContainerState
	mounted map[string][]string // id -> the volumes the running run mounted
}

func newLifecycle() *lifecycle {
	return &lifecycle{
		started: map[string]time.Time{},
		status:  map[string]containertypes.ContainerState{},
		mounted: map[string][]string{},
	}
}

// logStateEvents turns a state change of c into docker's events: start for a
// new run, oom and die (exitCode, execDuration) when a run ends. A restart
// that fails, a stop that cancels a pending restart and pause/unpause log
// neither. c is locked.
func (d *Daemon) logStateEvents(c *container.Container) {
	if d.life == nil {
		return
	}
	st := c.State
	d.life.mu.Lock()
	prev := d.life.status[c.ID]
	d.life.status[c.ID] = st.Status
	start := st.Status == containertypes.StateRunning && !d.life.started[c.ID].Equal(st.StartedAt)
	if start {
		d.life.started[c.ID] = st.StartedAt
	}
	d.life.mu.Unlock()
	switch {
	case start:
		d.logContainerEvent(c, events.ActionStart, nil)
	case (st.Status == containertypes.StateExited || st.Status == containertypes.StateRestarting) &&
		prev != containertypes.StateExited && prev != containertypes.StateRestarting && !st.StartedAt.IsZero():
		if st.OOMKilled {
			d.logContainerEvent(c, events.ActionOOM, nil)
		}
		d.logContainerEvent(c, events.ActionDie, map[string]string{
			"exitCode":     strconv.Itoa(st.ExitCode),
			"execDuration": strconv.Itoa(int(st.FinishedAt.Sub(st.StartedAt).Seconds())),
		})
	}
}

// logDestroy records the removal of c and forgets its runs. c is locked.
func (d *Daemon) logDestroy(c *container.Container) {
	if d.life != nil {
		d.life.mu.Lock()
		delete(d.life.started, c.ID)
		delete(d.life.status, c.ID)
		delete(d.life.mounted, c.ID)
		d.life.mu.Unlock()
	}
	d.logContainerEvent(c, events.ActionDestroy, nil)
}

// logVolumeMounts records a mount event for each volume c mounts in the
// run being prepared (vols, its containerVolumes), with docker's
// attributes. c is locked.
func (d *Daemon) logVolumeMounts(c *container.Container, vols []volume.Spec) {
	if d.life == nil {
		return
	}
	var mounted []string
	for _, spec := range vols {
		attrs := map[string]string{
			"driver":      localDriver,
			"container":   c.ID,
			"destination": spec.Target,
			"read/write":  strconv.FormatBool(!spec.ReadOnly),
			"propagation": string(spec.Propagation),
		}
		d.logVolumeEvent(spec.Source, events.ActionMount, attrs)
		mounted = append(mounted, spec.Source)
	}
	d.life.mu.Lock()
	d.life.mounted[c.ID] = mounted
	d.life.mu.Unlock()
}

// logVolumeUnmounts records the unmount events of id's volumes, once per
// run, whichever of the exit's release and the removal gets there first.
func (d *Daemon) logVolumeUnmounts(id string) {
	if d.life == nil {
		return
	}
	d.life.mu.Lock()
	mounted := d.life.mounted[id]
	delete(d.life.mounted, id)
	d.life.mu.Unlock()
	for _, name := range mounted {
		d.logVolumeEvent(name, events.ActionUnmount, map[string]string{"driver": localDriver, "container": id})
	}
}

// execAction is docker's action for an exec event: "exec_start: sh -c ls".
func execAction(prefix events.Action, cmd []string) events.Action {
	return events.Action(string(prefix) + ": " + strings.Join(cmd, " "))
}

// logExecDie records exec_die (execID, exitCode) once e has ended; when it
// still runs, a goroutine waits for its end. c is not locked.
func (d *Daemon) logExecDie(c *container.Container, e *tasks.Exec) {
	emit := func() {
		code := 0
		if st := e.State(); st.ExitCode != nil {
			code = *st.ExitCode
		}
		d.lockAndLogContainerEvent(c, events.ActionExecDie, map[string]string{"execID": e.ID, "exitCode": strconv.Itoa(code)})
	}
	select {
	case <-e.Done():
		emit()
	default:
		go func() { <-e.Done(); emit() }()
	}
}

// eventVolumes is the volume store that logs docker's create and destroy
// events, whoever in the daemon creates or removes a volume.
type eventVolumes struct {
	Volumes
	d *Daemon
}

// Create logs create only for a volume it made.
func (v eventVolumes) Create(name string, labels, opts map[string]string) (*volume.Volume, error) {
	existed := false
	if name != "" {
		_, err := v.Volumes.Get(name)
		existed = err == nil
	}
	vol, err := v.Volumes.Create(name, labels, opts)
	if err == nil && !existed {
		v.d.logVolumeEvent(vol.Name, events.ActionCreate, map[string]string{"driver": localDriver})
	}
	return vol, err
}

func (v eventVolumes) Remove(name string) error {
	if err := v.Volumes.Remove(name); err != nil {
		return err
	}
	v.d.logVolumeEvent(name, events.ActionDestroy, map[string]string{"driver": localDriver})
	return nil
}

// eventNetworks is the network manager that logs docker's network events
// (create, destroy, connect, disconnect) for every caller.
type eventNetworks struct {
	Networks
	d *Daemon
	// teardown serializes the release of one container's endpoints, so that
	// concurrent releases (an exit's and a removal's) log each disconnect
	// once.
	teardown keyedMutex
}

func (m *eventNetworks) Create(ctx context.Context, name string, opts network.CreateOptions) (*network.Network, error) {
	n, err := m.Networks.Create(ctx, name, opts)
	if err == nil {
		m.d.logNetworkEvent(n, events.ActionCreate, nil)
	}
	return n, err
}

func (m *eventNetworks) Remove(ctx context.Context, ref string) error {
	n, err := m.Networks.Get(ref)
	if err != nil {
		return m.Networks.Remove(ctx, ref)
	}
	if err := m.Networks.Remove(ctx, ref); err != nil {
		return err
	}
	m.d.logNetworkEvent(n, events.ActionDestroy, nil)
	return nil
}

func (m *eventNetworks) Prune(ctx context.Context, match func(*network.Network) bool) ([]string, error) {
	before := map[string]*network.Network{}
	for _, n := range m.Networks.List() {
		before[n.Name] = n
	}
	names, err := m.Networks.Prune(ctx, match)
	for _, name := range names {
		if n, ok := before[name]; ok {
			m.d.logNetworkEvent(n, events.ActionDestroy, nil)
		}
	}
	return names, err
}

func (m *eventNetworks) Connect(ctx context.Context, netRef string, opts network.EndpointOptions) (*network.Endpoint, error) {
	ep, err := m.Networks.Connect(ctx, netRef, opts)
	if err == nil {
		m.logEndpoint(ep, events.ActionConnect)
	}
	return ep, err
}

func (m *eventNetworks) Disconnect(ctx context.Context, netRef, containerID string) error {
	unlock := m.teardown.lock(containerID)
	defer unlock()
	ep, epErr := m.Networks.Endpoint(netRef, containerID)
	if err := m.Networks.Disconnect(ctx, netRef, containerID); err != nil {
		return err
	}
	if epErr == nil {
		m.logEndpoint(ep, events.ActionDisconnect)
	}
	return nil
}

func (m *eventNetworks) DisconnectAll(ctx context.Context, containerID string) error {
	return m.releasing(containerID, func() error { return m.Networks.DisconnectAll(ctx, containerID) })
}

func (m *eventNetworks) ReleaseAll(ctx context.Context, containerID string) error {
	return m.releasing(containerID, func() error { return m.Networks.ReleaseAll(ctx, containerID) })
}

// releasing runs release and logs a disconnect for each endpoint of
// containerID it took away.
func (m *eventNetworks) releasing(containerID string, release func() error) error {
	unlock := m.teardown.lock(containerID)
	defer unlock()
	before := m.Networks.Endpoints(containerID)
	err := release()
	left := map[string]bool{}
	for _, ep := range m.Networks.Endpoints(containerID) {
		left[ep.NetworkID] = true
	}
	for _, ep := range before {
		if !left[ep.NetworkID] {
			m.logEndpoint(ep, events.ActionDisconnect)
		}
	}
	return err
}

func (m *eventNetworks) logEndpoint(ep *network.Endpoint, action events.Action) {
	n, err := m.Networks.Get(ep.NetworkID)
	if err != nil {
		n = &network.Network{ID: ep.NetworkID, Name: ep.NetworkName}
	}
	m.d.logNetworkEvent(n, action, map[string]string{"container": ep.ContainerID})
}

// keyedMutex is one mutex per key, made on demand.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// logImageDeletes records an untag for each reference a deletion removed
// and a delete for each image it removed, in the deletion's order, as
// dockerd (v28, whose untag and delete name the image by its id). idOf
// maps the references to their image ids, read before the deletion.
func (d *Daemon) logImageDeletes(ctx context.Context, items []imagetypes.DeleteResponse, idOf func(ref string) string) {
	for _, it := range items {
		switch {
		case it.Untagged != "":
			if id := idOf(it.Untagged); id != "" {
				d.logImageEvent(ctx, id, id, events.ActionUnTag)
			}
		case it.Deleted != "":
			d.logImageEvent(ctx, it.Deleted, it.Deleted, events.ActionDelete)
		}
	}
}

// imageIDs maps every reference (repo:tag and repo@digest, familiar) to
// its image id, for the events of a deletion.
func (d *Daemon) imageIDs(ctx context.Context) func(ref string) string {
	ids := map[string]string{}
	if imgs, err := d.images.List(ctx, true, nil); err == nil {
		for _, img := range imgs {
			for _, ref := range slices.Concat(img.RepoTags, img.RepoDigests) {
				ids[ref] = img.ID
			}
		}
	}
	return func(ref string) string {
		if id, ok := ids[ref]; ok {
			return id
		}
		if named, err := reference.ParseNormalizedNamed(ref); err == nil {
			return ids[reference.FamiliarString(named)]
		}
		return ""
	}
}

// familiarRef returns docker's familiar forms of a reference, name:tag
// (":latest" when it has neither tag nor digest) and name; ref as given
// when it does not parse.
func familiarRef(ref string) (full, name string) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref, ref
	}
	return reference.FamiliarString(reference.TagNameOnly(named)), reference.FamiliarName(named)
}

// logImagesEvent records action (load, save) once for each image refs name,
// actor and name being the image's id, as dockerd (v28).
func (d *Daemon) logImagesEvent(ctx context.Context, refs []string, action events.Action) {
	seen := map[string]bool{}
	for _, ref := range refs {
		img, err := d.images.Get(ctx, ref)
		if err != nil || seen[img.ID] {
			continue
		}
		seen[img.ID] = true
		d.logImageEvent(ctx, img.ID, img.ID, action)
	}
}

// seedLifecycle records the state of every container as found at boot, so
// that a state change of a re-adopted running container (a stop) is not
// taken for a new run.
func (d *Daemon) seedLifecycle() {
	for _, c := range d.containers.List() {
		c.Lock()
		d.life.mu.Lock()
		d.life.status[c.ID] = c.State.Status
		if c.State.Status == containertypes.StateRunning || c.State.Status == containertypes.StatePaused {
			d.life.started[c.ID] = c.State.StartedAt
		}
		d.life.mu.Unlock()
		c.Unlock()
	}
}
