package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// tmpPrefix marks directories being built or removed; they are never
// visible as snapshots and are deleted when the store is opened.
const tmpPrefix = ".tmp-"

// dirs is the on-disk layout shared by the snapshotters:
// <root>/<chainID hex>/{diff,info.json}, plus <root>/.empty.
type dirs struct {
	root string
}

func openDirs(root string) (*dirs, error) {
	if err := os.MkdirAll(filepath.Join(root, ".empty"), 0o755); err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return nil, fmt.Errorf("snapshot store: remove leftover %s: %w", e.Name(), err)
			}
		}
	}
	return &dirs{root: root}, nil
}

func (d *dirs) dir(key digest.Digest) (string, error) {
	if err := key.Validate(); err != nil {
		return "", fmt.Errorf("invalid snapshot key %q: %w", key, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(d.root, key.Encoded()), nil
}

// diffDir is where the snapshot's files are.
func (d *dirs) diffDir(key digest.Digest) string {
	return filepath.Join(d.root, key.Encoded(), "diff")
}

// emptyDir is an always-empty directory, the lower layer of an image without layers.
func (d *dirs) emptyDir() string { return filepath.Join(d.root, ".empty") }

func (d *dirs) stat(key digest.Digest) (Info, error) {
	dir, err := d.dir(key)
	if err != nil {
		return Info{}, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("snapshot %s: %w", key, errdefs.ErrNotFound)
		}
		return Info{}, fmt.Errorf("snapshot %s: %w", key, err)
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return Info{}, fmt.Errorf("snapshot %s: bad info: %w", key, err)
	}
	return info, nil
}

func (d *dirs) list() ([]Info, error) {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []Info
	for _, e := range entries {
		key := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if key.Validate() != nil {
			continue
		}
		info, err := d.stat(key)
		if err != nil {
			continue
		}
		out = append(out, info)
	}
	return out, nil
}

// create unpacks a layer in a temporary directory with fill, which must
// read layer; create then drains and hashes what is left, computes the chain
// ID and renames the directory into place, so that a snapshot is visible only
// when complete.
func (d *dirs) create(ctx context.Context, parent digest.Digest, layer io.Reader, expected digest.Digest, fill func(diff string, layer io.Reader) (int64, error)) (Info, error) {
	if parent != "" {
		if _, err := d.stat(parent); err != nil {
			return Info{}, fmt.Errorf("parent layer: %w", err)
		}
	}
	if expected != "" {
		if err := expected.Validate(); err != nil {
			return Info{}, fmt.Errorf("invalid diff ID %q: %w", expected, errdefs.ErrInvalidArgument)
		}
	}
	tmp, err := os.MkdirTemp(d.root, tmpPrefix)
	if err != nil {
		return Info{}, fmt.Errorf("unpack layer: %w", err)
	}
	defer os.RemoveAll(tmp)
	diff := filepath.Join(tmp, "diff")
	if err := os.Mkdir(diff, 0o755); err != nil {
		return Info{}, fmt.Errorf("unpack layer: %w", err)
	}
	h := digest.SHA256.Digester()
	cr := &countingReader{r: ctxReader{ctx, layer}}
	tee := io.TeeReader(cr, h.Hash())
	size, err := fill(diff, tee)
	if err != nil {
		return Info{}, fmt.Errorf("unpack layer: %w", err)
	}
	// The tar reader stops at the end-of-archive marker: hash the padding too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Info{}, fmt.Errorf("unpack layer: %w", err)
	}
	diffID := h.Digest()
	if expected != "" && diffID != expected {
		return Info{}, fmt.Errorf("layer digest mismatch: expected %s, got %s: %w", expected, diffID, errdefs.ErrFailedPrecondition)
	}
	key := ChainID(parent, diffID)
	if info, err := d.stat(key); err == nil {
		return info, nil
	}
	info := Info{Key: key, Parent: parent, DiffID: diffID, TarSize: cr.n, Size: size}
	data, err := json.Marshal(info)
	if err != nil {
		return Info{}, err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, "info.json"), data, 0o644); err != nil {
		return Info{}, err
	}
	dir, _ := d.dir(key)
	if err := os.Rename(tmp, dir); err != nil {
		if existing, serr := d.stat(key); serr == nil {
			// Another unpack of the same layer won the race.
			return existing, nil
		}
		return Info{}, fmt.Errorf("commit layer %s: %w", key, err)
	}
	if err := atomicfile.SyncDir(d.root); err != nil {
		return Info{}, err
	}
	return info, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// remove renames the snapshot out of sight first, so that a crash halfway
// through never leaves a partial snapshot visible.
func (d *dirs) remove(key digest.Digest) error {
	dir, err := d.dir(key)
	if err != nil {
		return err
	}
	tmp := filepath.Join(d.root, tmpPrefix+"rm-"+key.Encoded())
	if err := os.Rename(dir, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove snapshot %s: %w", key, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove snapshot %s: %w", key, err)
	}
	return nil
}

// chain returns key and its ancestors, top first.
func (d *dirs) chain(key digest.Digest) ([]digest.Digest, error) {
	var out []digest.Digest
	for k := key; k != ""; {
		info, err := d.stat(k)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
		k = info.Parent
		if len(out) > 1000 {
			return nil, fmt.Errorf("snapshot %s: parent chain too long", key)
		}
	}
	return out, nil
}

// dirSize sums the sizes of regular files under root, counting hard links once.
func dirSize(root string) (int64, error) {
	var size int64
	seen := map[uint64]struct{}{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if ino, nlink := inode(fi); nlink > 1 {
			if _, ok := seen[ino]; ok {
				return nil
			}
			seen[ino] = struct{}{}
		}
		size += fi.Size()
		return nil
	})
	return size, err
}
