package daemon

import (
	"context"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"os"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/volume"
)

// ContainerCreate creates a container from an image and the request's overrides.
func (d *Daemon) ContainerCreate(ctx context.Context, name string, req *containertypes.CreateRequest) (containertypes.CreateResponse, error) {
	if req == nil || req.Config == nil {
		return containertypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("config cannot be empty in order to create a container")
	}
	if req.Config.Image == "" {
		return containertypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("no image specified")
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	hc.LogConfig = mergeLogConfig(hc.LogConfig, d.cfg.LogConfig)
	// dockerd validates the settings before it looks the image up
	if err := validateCreate(req.Config, hc); err != nil {
		return containertypes.CreateResponse{}, err
	}
	warnings, err := validateLimits(req.Config, hc, d.host.Cgroups)
	if err != nil {
		return containertypes.CreateResponse{}, err
	}
	if w := d.oomScoreAdjWarning(hc.OomScoreAdj); w != "" {
		warnings = append(warnings, w)
	}
	if err := d.validateJoinedContainers(hc); err != nil {
		return containertypes.CreateResponse{}, err
	}
	if err := d.validateUserns(hc); err != nil {
		return containertypes.CreateResponse{}, err
	}
	// the mounts parse (validateCreate); a --mount bind's source must exist
	specs, _ := volume.Specs(hc.Binds, hc.Mounts)
	if err := volume.CheckBindSources(specs); err != nil {
		return containertypes.CreateResponse{}, err
	}
	img, err := d.images.Get(ctx, req.Config.Image)
	if err != nil {
		return containertypes.CreateResponse{}, err
	}
	cfg, err := container.MergeConfig(&img.Config.Config, req.Config)
	if err != nil {
		return containertypes.CreateResponse{}, err
	}

	d.adaptHostConfig(hc)
	id := container.NewID()
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
		if hc.NetworkMode.IsHost() {
			cfg.Hostname, _ = os.Hostname()
		}
	}
	if name == "" {
		name = d.containers.ReserveGeneratedName(id)
	} else if err := d.containers.ReserveName(name, id); err != nil {
		return containertypes.CreateResponse{}, err
	}
	path, args := container.Process(cfg)
	dataDir := d.containerDataDir(id)
	c := &container.Container{
		ID:               id,
		Name:             "/" + strings.TrimPrefix(name, "/"),
		Created:          time.Now().UTC(),
		Path:             path,
		Args:             args,
		Config:           cfg,
		HostConfig:       hc,
		ImageID:          img.ID,
		NetworkingConfig: req.NetworkingConfig,
		LogPath:          jsonLogPath(dataDir, id, hc.LogConfig.Type),
		HostnamePath:     dataDir + "/hostname",
		HostsPath:        dataDir + "/hosts",
		ResolvConfPath:   dataDir + "/resolv.conf",
	}
	c.State.Status = containertypes.StateCreated
	if c.VolumesFromMounts, err = d.volumesFrom(hc.VolumesFrom); err != nil {
		d.containers.ReleaseName(name)
		return containertypes.CreateResponse{}, err
	}
	created, err := d.createVolumes(cfg, hc, c.VolumesFromMounts)
	if err != nil {
		d.containers.ReleaseName(name)
		return containertypes.CreateResponse{}, err
	}
	if err := d.createOnDisk(ctx, c); err != nil {
		d.removeVolumes(created)
		d.containers.ReleaseName(name)
		_ = os.RemoveAll(dataDir)
		_ = d.images.RemoveRootfs(context.WithoutCancel(ctx), id)
		return containertypes.CreateResponse{}, err
	}
	d.containers.Add(c)
	d.lockAndLogContainerEvent(c, events.ActionCreate, nil)
	if warnings == nil {
		warnings = []string{}
	}
	return containertypes.CreateResponse{ID: id, Warnings: warnings}, nil
}

// jsonLogPath is where a json-file log is written (inspect's LogPath);
// empty for the other drivers, as docker shows it.
func jsonLogPath(dataDir, id, driver string) string {
	if driver != logJSONFile {
		return ""
	}
	return dataDir + "/" + id + "-json.log"
}

// createOnDisk prepares the container's rw layer and its record (the
// generated /etc files come at each start). The record is written last: a crash before it leaves only
// garbage that restore removes.
func (d *Daemon) createOnDisk(ctx context.Context, c *container.Container) error {
	if err := os.MkdirAll(d.containerDataDir(c.ID), 0o710); err != nil {
		return fmt.Errorf("create container dir: %w", err)
	}
	if err := d.chownGroupToRoot(d.containerDataDir(c.ID)); err != nil {
		return err
	}
	if _, err := d.images.PrepareRootfs(ctx, c.ImageID, c.ID); err != nil {
		return fmt.Errorf("prepare rootfs: %w", err)
	}
	return c.Save(d.containerDataDir(c.ID))
}
