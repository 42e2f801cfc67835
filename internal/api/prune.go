package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/internal/backend"
)

// DiskBackend serves /system/df and /containers/prune.
type DiskBackend interface {
	// SystemDiskUsage reports what images, containers, volumes and the
	// build cache hold, in full detail.
	SystemDiskUsage(ctx context.Context, opts backend.DiskUsageOptions) (*backend.DiskUsage, error)
	// ContainerPrune removes the containers that do not run.
	ContainerPrune(ctx context.Context, filters Filters) (*container.PruneReport, error)
}

// diskRoutes registers /system/df and the prunes berth has no other home
// for.
func (s *Server) diskRoutes() {
	s.handle("GET /system/df", s.systemDiskUsage)
	s.handle("POST /containers/prune", s.containerPrune)
}

// containerPrune answers POST /containers/prune?filters=.
func (s *Server) containerPrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := requestFilters(r)
	if err != nil {
		return err
	}
	report, err := s.backend.ContainerPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}

// legacyDiskUsage is GET /system/df's answer before API 1.52.
type legacyDiskUsage struct {
	LayersSize int64               `json:"LayersSize,omitempty"`
	Images     []image.Summary     `json:"Images,omitempty"`
	Containers []container.Summary `json:"Containers,omitempty"`
	Volumes    []volume.Volume     `json:"Volumes,omitempty"`
	BuildCache []build.CacheRecord `json:"BuildCache,omitempty"`
}

// systemDiskUsage answers GET /system/df?type=&verbose=: the detailed
// lists before API 1.52, the per-type summaries after (with their items
// when verbose), as dockerd.
func (s *Server) systemDiskUsage(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	var opts backend.DiskUsageOptions
	for _, t := range q["type"] {
		switch system.DiskUsageObject(t) {
		case system.ContainerObject:
			opts.Containers = true
		case system.ImageObject:
			opts.Images = true
		case system.VolumeObject:
			opts.Volumes = true
		case system.BuildCacheObject:
			opts.BuildCache = true
		default:
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unknown object type: %s", t))
		}
	}
	du, err := s.backend.SystemDiskUsage(r.Context(), opts)
	if err != nil {
		return err
	}
	if v := apiVersion(r.Context()); v != "" && compareVersions(v, "1.52") < 0 {
		return writeJSON(w, http.StatusOK, legacyDiskUsage{
			LayersSize: du.LayersSize, Images: du.Images, Containers: du.Containers, Volumes: du.Volumes, BuildCache: du.BuildCache,
		})
	}
	return writeJSON(w, http.StatusOK, diskUsageSummaries(du, boolValue(q, "verbose")))
}

// diskUsageSummaries counts, per type, what is in use and what could be
// reclaimed, as dockerd does from the same lists.
func diskUsageSummaries(du *backend.DiskUsage, verbose bool) system.DiskUsage {
	var out system.DiskUsage
	if du.Images != nil {
		u := &image.DiskUsage{TotalCount: int64(len(du.Images)), TotalSize: du.LayersSize}
		var used int64
		for _, img := range du.Images {
			if img.Containers > 0 {
				u.ActiveCount++
				used += img.Size - img.SharedSize
			}
		}
		u.Reclaimable = u.TotalSize - used
		if verbose {
			u.Items = du.Images
		}
		out.ImageUsage = u
	}
	if du.Containers != nil {
		u := &container.DiskUsage{TotalCount: int64(len(du.Containers))}
		var used int64
		for _, c := range du.Containers {
			u.TotalSize += c.SizeRw
			switch c.State {
			case container.StateRunning, container.StatePaused, container.StateRestarting:
				u.ActiveCount++
				used += c.SizeRw
			}
		}
		u.Reclaimable = u.TotalSize - used
		if verbose {
			u.Items = du.Containers
		}
		out.ContainerUsage = u
	}
	if du.Volumes != nil {
		u := &volume.DiskUsage{TotalCount: int64(len(du.Volumes))}
		var used int64
		for _, v := range du.Volumes {
			if v.UsageData == nil {
				continue
			}
			u.TotalSize += v.UsageData.Size
			if v.UsageData.RefCount > 0 {
				u.ActiveCount++
				used += v.UsageData.Size
			}
		}
		u.Reclaimable = u.TotalSize - used
		if verbose {
			u.Items = du.Volumes
		}
		out.VolumeUsage = u
	}
	if du.BuildCache != nil {
		out.BuildCacheUsage = buildCacheSummary(du.BuildCache, verbose)
	}
	return out
}
