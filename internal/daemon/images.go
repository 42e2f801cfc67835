package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"io"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/berth-project/berth/internal/backend"
)

// ImageList lists local images.
func (d *Daemon) ImageList(ctx context.Context, opts backend.ImageListOptions) ([]image.Summary, error) {
	imgs, err := d.images.List(ctx, opts.All, opts.Filters)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, c := range d.containers.List() {
		counts[c.ImageID]++
	}
	for i := range imgs {
		imgs[i].Containers = counts[imgs[i].ID]
	}
	return imgs, nil
}

// ImageInspect describes one image.
func (d *Daemon) ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error) {
	return d.images.Inspect(ctx, name)
}

// ImageHistory lists an image's layers' history.
func (d *Daemon) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	return d.images.History(ctx, name)
}

// ImageTag adds a reference to an image.
func (d *Daemon) ImageTag(ctx context.Context, source, repo, tag string) error {
	if err := d.images.Tag(ctx, source, repo, tag); err != nil {
		return err
	}
	d.logTag(ctx, source, repo, tag)
	return nil
}

// logTag records docker's tag event: the image's id, named by the new
// reference.
func (d *Daemon) logTag(ctx context.Context, source, repo, tag string) {
	img, err := d.images.Get(ctx, source)
	if err != nil {
		return
	}
	ref := repo
	if tag != "" {
		ref += ":" + tag
	}
	full, _ := familiarRef(ref)
	d.logImageEvent(ctx, img.ID, full, events.ActionTag)
}

// ImageDelete untags or deletes an image, refusing while containers use it.
func (d *Daemon) ImageDelete(ctx context.Context, name string, force, noPrune bool) ([]image.DeleteResponse, error) {
	idOf := d.imageIDs(ctx)
	items, err := d.images.Delete(ctx, name, force, noPrune, d.imageUser)
	if err == nil {
		d.logImageDeletes(ctx, items, idOf)
	}
	return items, err
}

// imageUser reports a container using the image, preferring a running one.
func (d *Daemon) imageUser(imageID string) (containerID string, running bool, used bool) {
	for _, c := range d.containers.List() {
		if c.ImageID != imageID {
			continue
		}
		if d.task(c.ID) != nil {
			return c.ID, true, true
		}
		containerID, used = c.ID, true
	}
	return containerID, false, used
}

// ImageImport creates an image from a rootfs tarball.
func (d *Daemon) ImageImport(ctx context.Context, src io.Reader, opts backend.ImageImportOptions, out io.Writer) error {
	if opts.Source != "-" {
		return errdefs.ErrNotImplemented.WithMessage("importing from a URL is not supported yet")
	}
	ref := opts.Repo
	if ref != "" && opts.Tag != "" {
		ref += ":" + opts.Tag
	}
	id, err := d.images.Import(ctx, src, ref, opts.Changes, opts.Message)
	if err != nil {
		return err
	}
	if ref != "" {
		full, _ := familiarRef(ref)
		d.logImageEvent(ctx, id, full, events.ActionTag)
	}
	d.logImageEvent(ctx, id, id, events.ActionImport)
	return writeJSONMessage(out, jsonstream.Message{Status: id})
}

// ImageLoad loads a docker-archive tarball.
func (d *Daemon) ImageLoad(ctx context.Context, src io.Reader, quiet bool, out io.Writer) error {
	var werr error
	var loaded []string // what the "Loaded image: " lines name
	err := d.images.Load(ctx, src, func(line string) {
		if ref, ok := strings.CutPrefix(line, "Loaded image ID: "); ok {
			loaded = append(loaded, ref)
		} else if ref, ok := strings.CutPrefix(line, "Loaded image: "); ok {
			loaded = append(loaded, ref)
		}
		if werr == nil {
			werr = writeJSONMessage(out, jsonstream.Message{Stream: line + "\n"})
		}
	})
	if err != nil {
		return err
	}
	d.logImagesEvent(ctx, loaded, events.ActionLoad)
	return werr
}

// ImageSave writes a docker-archive tarball of the named images.
func (d *Daemon) ImageSave(ctx context.Context, names []string, w io.Writer) error {
	if err := d.images.Save(ctx, names, w); err != nil {
		return err
	}
	d.logImagesEvent(ctx, names, events.ActionSave)
	return nil
}

func writeJSONMessage(w io.Writer, m jsonstream.Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	_, err = w.Write(append(data, '\r', '\n'))
	return err
}
