package api

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"
)

// The fake backend's volumes: a name-keyed map, guarded by f.mu; a
// volume labelled "inuse" counts as mounted by a container.

func (f *fakeBackend) VolumeCreate(ctx context.Context, req volume.CreateRequest) (*volume.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.volumes == nil {
		f.volumes = map[string]*volume.Volume{}
	}
	if v, ok := f.volumes[req.Name]; ok {
		return v, nil
	}
	v := &volume.Volume{Name: req.Name, Driver: "local", Labels: req.Labels, Scope: "local", Mountpoint: "/v/" + req.Name + "/_data"}
	f.volumes[req.Name] = v
	return v, nil
}

func (f *fakeBackend) VolumeInspect(ctx context.Context, name string) (*volume.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	if !ok {
		return nil, fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	return v, nil
}

func (f *fakeBackend) VolumeList(ctx context.Context, filters Filters) (*volume.ListResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &volume.ListResponse{Volumes: []volume.Volume{}, Warnings: []string{}}
	for _, v := range f.volumes {
		if names := filters["name"]; len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(v.Name, n) }) {
			continue
		}
		resp.Volumes = append(resp.Volumes, *v)
	}
	slices.SortFunc(resp.Volumes, func(a, b volume.Volume) int { return strings.Compare(a.Name, b.Name) })
	return resp, nil
}

func (f *fakeBackend) VolumeRemove(ctx context.Context, name string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.volumes[name]
	switch {
	case !ok && force:
		return nil
	case !ok:
		return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	case v.Labels["inuse"] != "":
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("remove %s: volume is in use - [%s]", name, v.Labels["inuse"]))
	}
	delete(f.volumes, name)
	return nil
}

func (f *fakeBackend) VolumePrune(ctx context.Context, filters Filters) (*volume.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	report := &volume.PruneReport{VolumesDeleted: []string{}}
	for name, v := range f.volumes {
		if v.Labels["inuse"] == "" {
			delete(f.volumes, name)
			report.VolumesDeleted = append(report.VolumesDeleted, name)
		}
	}
	return report, nil
}
