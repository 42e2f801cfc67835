package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/image"
)

// ContainerCommit creates an image from a container's changes, running or
// not, as docker commit does, and returns its id.
func (d *Daemon) ContainerCommit(ctx context.Context, name string, opts backend.CommitOptions) (string, error) {
	c, err := d.lookup(name)
	if err != nil {
		return "", err
	}
	ref := opts.Repo
	if ref == "" && opts.Tag != "" {
		return "", errdefs.ErrInvalidArgument.WithMessage("tag without a repository")
	}
	if ref != "" && opts.Tag != "" {
		ref += ":" + opts.Tag
	}
	c.Lock()
	cfg, err := commitConfig(c.Config, opts.Config, opts.Changes)
	imageID, id := c.ImageID, c.ID
	createdBy := strings.Join(c.Config.Cmd, " ")
	running := c.State.Status == containertypes.StateRunning
	c.Unlock()
	if err != nil {
		return "", err
	}
	// As dockerd: a running container is frozen while its changes are
	// read (--pause, the default), and thawed after, with both events.
	if opts.Pause && running {
		if err := d.tasks.Pause(ctx, c); err != nil && !errdefs.IsConflict(err) {
			return "", err
		} else if err == nil {
			d.logContainerEvent(c, events.ActionPause, nil)
			defer func() {
				if err := d.tasks.Unpause(context.WithoutCancel(ctx), c); err != nil {
					d.log.Warn("commit: unpause", "id", c.ID, "err", err)
					return
				}
				d.logContainerEvent(c, events.ActionUnPause, nil)
			}()
		}
	}
	newID, err := d.images.Commit(ctx, image.CommitOptions{
		ContainerID: id,
		ImageID:     imageID,
		Config:      cfg,
		CreatedBy:   createdBy,
		Author:      opts.Author,
		Comment:     opts.Comment,
		Ref:         ref,
		Exclude:     runtimeMountPoints,
	})
	if err != nil {
		return "", err
	}
	// as dockerd: the tag's image event, then the container's commit
	imageRef := ""
	if ref != "" {
		if named, err := reference.ParseNormalizedNamed(ref); err == nil {
			imageRef = reference.FamiliarString(reference.TagNameOnly(named))
			d.logImageEvent(ctx, newID, imageRef, events.ActionTag)
		}
	}
	d.logContainerEvent(c, events.ActionCommit, map[string]string{"comment": opts.Comment, "imageID": newID, "imageRef": imageRef})
	return newID, nil
}

// commitConfig is the committed image's config as docker makes it: the
// request's config (the container's when none), the --change instructions
// applied to it, then what it leaves unset taken from the container's.
func commitConfig(ctr, req *containertypes.Config, changes []string) (dockerspec.DockerOCIImageConfig, error) {
	if req == nil || reflect.ValueOf(*req).IsZero() {
		req = ctr
	}
	user, err := imageConfig(req)
	if err != nil {
		return user, err
	}
	if err := image.ApplyChanges(&user, changes); err != nil {
		return user, err
	}
	base, err := imageConfig(ctr)
	if err != nil {
		return user, err
	}
	overrides, err := containerConfig(user)
	if err != nil {
		return user, err
	}
	merged, err := container.MergeConfig(&base, overrides)
	if err != nil {
		return user, err
	}
	return imageConfig(merged)
}

// imageConfig keeps the image fields of a container config: both types
// share docker's JSON names.
func imageConfig(c *containertypes.Config) (dockerspec.DockerOCIImageConfig, error) {
	var out dockerspec.DockerOCIImageConfig
	if c == nil {
		return out, nil
	}
	raw, err := json.Marshal(c)
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	if err != nil {
		return out, fmt.Errorf("image config: %w", err)
	}
	return out, nil
}

func containerConfig(c dockerspec.DockerOCIImageConfig) (*containertypes.Config, error) {
	var out containertypes.Config
	raw, err := json.Marshal(c)
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	if err != nil {
		return nil, fmt.Errorf("container config: %w", err)
	}
	return &out, nil
}
