package daemon

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
	volumetypes "github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/volume"
)

// Volumes is the local volume store, as the daemon uses it (*volume.Store).
type Volumes interface {
	// Create returns the named volume, creating it when missing with the
	// labels and the local driver's options; "" makes an anonymous volume.
	Create(name string, labels, opts map[string]string) (*volume.Volume, error)
	Get(name string) (*volume.Volume, error)
	List() []*volume.Volume
	Remove(name string) error
	// Mount records a container's use of a volume, mounting its device
	// (a volume created with options) when it is the first.
	Mount(name, containerID string) error
	// Release forgets a container's uses, unmounting the devices no
	// container uses any more.
	Release(containerID string) error
}

// localDriver is the one volume driver berth has.
const localDriver = "local"

// VolumeCreate answers POST /volumes/create.
func (d *Daemon) VolumeCreate(ctx context.Context, req volumetypes.CreateRequest) (*volumetypes.Volume, error) {
	if req.Driver != "" && req.Driver != localDriver {
		return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("error looking up volume plugin %s: plugin %q not found", req.Driver, req.Driver))
	}
	v, err := d.volumes.Create(req.Name, req.Labels, req.DriverOpts)
	if err != nil {
		return nil, err
	}
	return apiVolume(v), nil
}

// VolumeInspect answers GET /volumes/{name}.
func (d *Daemon) VolumeInspect(ctx context.Context, name string) (*volumetypes.Volume, error) {
	v, err := d.volumes.Get(name)
	if err != nil {
		return nil, err
	}
	return apiVolume(v), nil
}

// VolumeList answers GET /volumes with the filters dangling, name, label
// and driver.
func (d *Daemon) VolumeList(ctx context.Context, filters backend.Filters) (*volumetypes.ListResponse, error) {
	for key := range filters {
		switch key {
		case "dangling", "name", "label", "driver":
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	for _, v := range filters["dangling"] {
		switch v {
		case "true", "1", "false", "0":
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'dangling=%s'", v))
		}
	}
	used := d.volumesInUse()
	resp := &volumetypes.ListResponse{Volumes: []volumetypes.Volume{}, Warnings: []string{}}
	for _, v := range d.volumes.List() {
		if !anyValue(filters["name"], func(s string) bool { return strings.Contains(v.Name, s) }) ||
			!anyValue(filters["driver"], func(s string) bool { return s == localDriver }) ||
			!anyValue(filters["dangling"], func(s string) bool { return (s == "true" || s == "1") == (len(used[v.Name]) == 0) }) ||
			!filters.MatchLabels("label", v.Labels) {
			continue
		}
		resp.Volumes = append(resp.Volumes, *apiVolume(v))
	}
	return resp, nil
}

// anyValue reports whether no value is given or one of them matches.
func anyValue(values []string, match func(string) bool) bool {
	return len(values) == 0 || slices.ContainsFunc(values, match)
}

// VolumeRemove answers DELETE /volumes/{name}: a volume a container uses
// is a conflict, even with force, which only makes a missing volume no
// error (as docker).
func (d *Daemon) VolumeRemove(ctx context.Context, name string, force bool) error {
	if _, err := d.volumes.Get(name); err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	if ids := d.volumesInUse()[name]; len(ids) > 0 {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("remove %s: volume is in use - [%s]", name, strings.Join(ids, ", ")))
	}
	return d.volumes.Remove(name)
}

// VolumePrune answers POST /volumes/prune: unused anonymous volumes, or
// every unused volume with the filter all=true, as docker since API 1.42;
// SpaceReclaimed is the size of their content.
func (d *Daemon) VolumePrune(ctx context.Context, filters backend.Filters) (*volumetypes.PruneReport, error) {
	all := false
	for key, values := range filters {
		switch key {
		case "label", "label!":
		case "all":
			for _, v := range values {
				switch v {
				case "true", "1":
					all = true
				case "false", "0":
				default:
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'all=%s': invalid value", v))
				}
			}
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	used := d.volumesInUse()
	report := &volumetypes.PruneReport{VolumesDeleted: []string{}}
	for _, v := range d.volumes.List() {
		if len(used[v.Name]) > 0 || (!all && !v.Anonymous()) || !filters.MatchPruneLabels(v.Labels) {
			continue
		}
		size := volume.DirSize(v.Mountpoint)
		if err := d.volumes.Remove(v.Name); err != nil {
			d.log.Warn("prune volume", "name", v.Name, "err", err)
			continue
		}
		report.VolumesDeleted = append(report.VolumesDeleted, v.Name)
		report.SpaceReclaimed += uint64(size)
	}
	d.logPruneEvent(events.VolumeEventType, report.SpaceReclaimed)
	return report, nil
}

// volumesInUse maps each volume name to the ids of the containers that
// mount it, sorted.
func (d *Daemon) volumesInUse() map[string][]string {
	used := map[string][]string{}
	for _, c := range d.containers.List() {
		c.Lock()
		for _, spec := range containerVolumes(c) {
			used[spec.Source] = append(used[spec.Source], c.ID)
		}
		c.Unlock()
	}
	for name, ids := range used {
		slices.Sort(ids)
		used[name] = slices.Compact(ids) // one container may mount a volume twice
	}
	return used
}

// mountSpecs returns what c mounts: its -v binds (whose anonymous entries
// create has named), then its --mount entries, then what --volumes-from
// gave it at paths its own mounts leave free. The record was checked at
// create, so it parses. c is locked.
func mountSpecs(c *container.Container) []volume.Spec {
	if c.HostConfig == nil {
		return nil
	}
	specs, _ := volume.ContainerSpecs(c.HostConfig, c.VolumesFromMounts)
	return specs
}

// volumesFrom resolves --volumes-from entries into the mounts the new
// container takes, as docker does at create: every mount of each named
// container (binds, volumes, --mount tmpfs; not --tmpfs), made read-only by
// ":ro"; an unknown container is docker's "No such container" (a 400).
func (d *Daemon) volumesFrom(entries []string) ([]mount.Mount, error) {
	var out []mount.Mount
	for _, entry := range entries {
		ref, readOnly, err := volume.ParseVolumesFrom(entry)
		if err != nil {
			return nil, err
		}
		src, err := d.containers.Get(ref)
		if err != nil {
			// a 400 as dockerd's, so that no client takes it for a
			// missing image and pulls
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		src.Lock()
		specs := mountSpecs(src)
		src.Unlock()
		for _, s := range specs {
			out = append(out, s.Inherit(readOnly))
		}
	}
	return out, nil
}

// containerVolumes returns the named and anonymous volumes c mounts. c is
// locked.
func containerVolumes(c *container.Container) []volume.Spec {
	return volumeSpecs(mountSpecs(c))
}

// volumeSpecs keeps the named and anonymous volumes of specs.
func volumeSpecs(specs []volume.Spec) []volume.Spec {
	var out []volume.Spec
	for _, spec := range specs {
		if spec.Type == mount.TypeVolume {
			out = append(out, spec)
		}
	}
	return out
}

// prepareVolumes creates (when missing) the volumes c mounts (vols, its
// containerVolumes), mounts the devices of those created with options,
// fills each empty one with the image's content at its target (unless
// nocopy), and returns their folders by name. rootfs is c's mounted root
// filesystem. Release (at the container's stop) undoes the mounts.
func (d *Daemon) prepareVolumes(c *container.Container, rootfs string, vols []volume.Spec) (map[string]string, error) {
	paths := map[string]string{}
	for _, spec := range vols {
		v, err := d.volumes.Create(spec.Source, nil, nil)
		if err != nil {
			return nil, err
		}
		if err := d.volumes.Mount(v.Name, c.ID); err != nil {
			return nil, err
		}
		if !spec.NoCopy {
			if err := volume.CopyUp(rootfs, spec.Target, v.Mountpoint); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
		paths[v.Name] = v.Mountpoint
	}
	return paths, nil
}

// holdVolumes records, at boot, the volumes a container that still runs
// uses, so that their devices (still mounted) stay until it stops.
func (d *Daemon) holdVolumes(c *container.Container) {
	for _, spec := range containerVolumes(c) {
		if err := d.volumes.Mount(spec.Source, c.ID); err != nil {
			d.log.Warn("hold volume", "id", c.ID, "volume", spec.Source, "err", err)
		}
	}
}

// createVolumes creates, as docker does at create, the named volumes the
// binds, --mount and --volumes-from entries use and one anonymous volume
// per Config.Volumes path (the request's and the image's) no mount covers
// and per --mount volume without a source. An anonymous -v volume joins hc.Binds as "<name>:<path>", an anonymous
// --mount gets its name as Source, so the container's record holds it. It
// returns the volumes it made.
func (d *Daemon) createVolumes(cfg *containertypes.Config, hc *containertypes.HostConfig, inherited []mount.Mount) (created []string, err error) {
	defer func() {
		if err != nil {
			d.removeVolumes(created)
			created = nil
		}
	}()
	specs, err := volume.ContainerSpecs(hc, inherited)
	if err != nil {
		return nil, err
	}
	covered := map[string]bool{}
	for _, spec := range specs {
		covered[path.Clean(spec.Target)] = true
		if spec.Type != mount.TypeVolume || spec.Source == "" {
			continue
		}
		if _, err := d.volumes.Get(spec.Source); err == nil {
			continue
		}
		if _, err := d.volumes.Create(spec.Source, nil, nil); err != nil {
			return created, err
		}
		created = append(created, spec.Source)
	}
	for i, m := range hc.Mounts {
		if m.Type != mount.TypeVolume || m.Source != "" {
			continue
		}
		v, err := d.volumes.Create("", nil, nil)
		if err != nil {
			return created, err
		}
		created = append(created, v.Name)
		hc.Mounts[i].Source = v.Name
	}
	for _, target := range slices.Sorted(maps.Keys(cfg.Volumes)) {
		if covered[path.Clean(target)] {
			continue
		}
		v, err := d.volumes.Create("", nil, nil)
		if err != nil {
			return created, err
		}
		created = append(created, v.Name)
		hc.Binds = append(hc.Binds, v.Name+":"+target)
	}
	return created, nil
}

// removeVolumes deletes volumes a failed create made. Best effort.
func (d *Daemon) removeVolumes(names []string) {
	for _, name := range names {
		if err := d.volumes.Remove(name); err != nil {
			d.log.Warn("remove volume", "name", name, "err", err)
		}
	}
}

// removeAnonymousVolumes deletes the anonymous volumes among vols (a
// removed container's) that no container uses (rm -v, --rm); named volumes
// always stay. Best effort; no container may be locked.
func (d *Daemon) removeAnonymousVolumes(vols []volume.Spec) {
	used := d.volumesInUse()
	for _, spec := range vols {
		v, err := d.volumes.Get(spec.Source)
		if err != nil || !v.Anonymous() || len(used[v.Name]) > 0 {
			continue
		}
		if err := d.volumes.Remove(v.Name); err != nil {
			d.log.Warn("remove anonymous volume", "name", v.Name, "err", err)
		}
	}
}

// volumeFolder returns the host folder of the named volume, "" when gone.
func (d *Daemon) volumeFolder(name string) string {
	v, err := d.volumes.Get(name)
	if err != nil {
		return ""
	}
	return v.Mountpoint
}

// hideAnonymousBinds drops from inspect's HostConfig.Binds the entries
// create added for anonymous volumes: docker shows only what was asked.
func (d *Daemon) hideAnonymousBinds(hc *containertypes.HostConfig) {
	if hc == nil || len(hc.Binds) == 0 {
		return
	}
	hc.Binds = slices.DeleteFunc(slices.Clone(hc.Binds), func(raw string) bool {
		spec, err := volume.Parse(raw)
		return err == nil && spec.Type == mount.TypeVolume && d.anonymousVolume(spec.Source)
	})
	if len(hc.Binds) == 0 {
		hc.Binds = nil
	}
}

// anonymousVolume reports whether the named volume exists and was made
// without a name.
func (d *Daemon) anonymousVolume(name string) bool {
	v, err := d.volumes.Get(name)
	return err == nil && v.Anonymous()
}

// apiVolume is a volume in docker's API shape.
func apiVolume(v *volume.Volume) *volumetypes.Volume {
	labels, opts := v.Labels, v.Options
	if labels == nil {
		labels = map[string]string{}
	}
	if opts == nil {
		opts = map[string]string{}
	}
	return &volumetypes.Volume{
		Name:       v.Name,
		Driver:     localDriver,
		Mountpoint: v.Mountpoint,
		CreatedAt:  v.CreatedAt.Format(time.RFC3339),
		Labels:     labels,
		Options:    opts,
		Scope:      "local",
	}
}
