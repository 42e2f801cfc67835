package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// emptyTarDiffID is the digest of an empty layer tar (1024 zero bytes):
// docker records such a commit as an empty layer in the history only.
const emptyTarDiffID = digest.Digest("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfad10ace3c6ef")

// CommitOptions say how a container's rw layer becomes an image.
type CommitOptions struct {
	ContainerID string
	ImageID     string // the container's image
	// Config is the new image's config (the container's, merged with the
	// caller's overrides and changes).
	Config dockerspec.DockerOCIImageConfig
	// CreatedBy is the history's command (the container's command line).
	CreatedBy string
	Author    string
	Comment   string
	Ref       string // "repo[:tag]" to tag it, "" for none
	// Exclude are container paths that are not its own changes (mount
	// points the runtime created), left out of the layer.
	Exclude []string
}

// ApplyChanges applies Dockerfile instructions (docker's --change) to cfg.
func ApplyChanges(cfg *dockerspec.DockerOCIImageConfig, changes []string) error {
	return applyChanges(cfg, changes)
}

// Commit makes the container's changes a new layer on its image's layers
// and stores an image of them, like docker commit. It returns the image id.
func (s *Store) Commit(ctx context.Context, opts CommitOptions) (string, error) {
	var tagged reference.NamedTagged
	if opts.Ref != "" {
		var err error
		if tagged, err = parseTag(opts.Ref, ""); err != nil {
			return "", err
		}
	}
	dir, err := s.rwDir(opts.ContainerID)
	if err != nil {
		return "", err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.RLock()
	parent, err := s.resolveLocked(opts.ImageID)
	var parentCfg configJSON
	var layers []layerRecord
	if err == nil {
		err = json.Unmarshal(parent.raw, &parentCfg)
		layers = append(layers, parent.Layers...)
	}
	s.mu.RUnlock()
	if err != nil {
		return "", fmt.Errorf("commit: image of the container: %w", err)
	}
	chain := digest.Digest("")
	if len(layers) > 0 {
		chain = layers[len(layers)-1].ChainID
	}
	if old, err := os.ReadFile(filepath.Join(dir, chainFile)); err == nil && digest.Digest(old) != chain {
		return "", fmt.Errorf("commit: the container's layer sits on %s, its image on %s", old, chain)
	}

	diff, err := s.snaps.Diff(ctx, chain, dir, opts.Exclude)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	defer diff.Close()
	w, err := s.content.Writer(ctx)
	if err != nil {
		return "", err
	}
	defer w.Abort()
	info, err := s.snaps.Unpack(ctx, chain, io.TeeReader(diff, w), "")
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	now := time.Now().UTC()
	empty := info.DiffID == emptyTarDiffID
	if !empty {
		blob, err := w.Commit(ctx, info.TarSize, info.DiffID)
		if err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
		layers = append(layers, layerFromInfo(info, blob, ocispec.MediaTypeImageLayer, info.TarSize))
	}

	img := parentCfg
	img.Comment = opts.Comment
	img.Created = &now
	img.Author = opts.Author
	img.Config = opts.Config
	if img.OS == "" {
		img.OS = "linux"
	}
	if img.Architecture == "" {
		img.Architecture = goarch()
	}
	img.RootFS.Type = "layers"
	img.RootFS.DiffIDs = make([]digest.Digest, 0, len(layers))
	for _, l := range layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.DiffID)
	}
	img.History = append(append([]ocispec.History(nil), parentCfg.History...), ocispec.History{
		Created:    &now,
		Author:     opts.Author,
		CreatedBy:  opts.CreatedBy,
		Comment:    opts.Comment,
		EmptyLayer: empty,
	})
	raw, err := json.Marshal(img)
	if err != nil {
		return "", err
	}
	rec := &record{Layers: layers, Parent: parent.ID}
	if err := s.commitImage(ctx, rec, raw, tagged); err != nil {
		return "", err
	}
	return rec.ID.String(), nil
}

// Changes lists the changes of the container's rw layer against its
// image, as docker diff shows them.
func (s *Store) Changes(ctx context.Context, containerID string, exclude []string) ([]containertypes.FilesystemChange, error) {
	dir, err := s.rwDir(containerID)
	if err != nil {
		return nil, err
	}
	chain, err := os.ReadFile(filepath.Join(dir, chainFile))
	if err != nil {
		return nil, fmt.Errorf("changes: rw layer of %s: %w", containerID, err)
	}
	changes, err := s.snaps.Changes(ctx, digest.Digest(strings.TrimSpace(string(chain))), dir, exclude)
	if err != nil {
		return nil, err
	}
	out := make([]containertypes.FilesystemChange, 0, len(changes))
	for _, c := range changes {
		out = append(out, containertypes.FilesystemChange{Path: filepath.ToSlash(c.Path), Kind: containertypes.ChangeType(c.Kind)})
	}
	return out, nil
}
