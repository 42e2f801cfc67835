package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/go-archive"
	"github.com/moby/sys/user"
	"github.com/opencontainers/go-digest"
)

// Copy is the plain-copy snapshotter: each snapshot holds the complete
// filesystem of its chain, and a container gets its own full copy that is
// bind mounted. It needs no overlayfs, so it serves tests and filesystems
// overlay cannot use, at the cost of disk space.
type Copy struct {
	d *dirs
}

var _ Snapshotter = (*Copy)(nil)

// NewCopy opens (creating if needed) a copy snapshot store at root.
func NewCopy(root string) (*Copy, error) {
	d, err := openDirs(root)
	if err != nil {
		return nil, err
	}
	return &Copy{d: d}, nil
}

// Unpack copies the parent's filesystem and applies the layer on it,
// honouring whiteouts and opaque directories.
func (c *Copy) Unpack(ctx context.Context, parent digest.Digest, layer io.Reader, expected digest.Digest) (Info, error) {
	return c.d.create(ctx, parent, layer, expected, func(diff string, layer io.Reader) (int64, error) {
		if parent != "" {
			if err := archive.NewDefaultArchiver().CopyWithTar(c.d.diffDir(parent), diff); err != nil {
				return 0, fmt.Errorf("copy parent: %w", err)
			}
		}
		// Only root may give files away: unprivileged (as in unit tests),
		// the files stay the caller's.
		return archive.UnpackLayer(diff, layer, &archive.TarOptions{NoLchown: os.Geteuid() != 0})
	})
}

// Stat returns the info of a committed snapshot.
func (c *Copy) Stat(ctx context.Context, key digest.Digest) (Info, error) { return c.d.stat(key) }

// List returns every committed snapshot.
func (c *Copy) List(ctx context.Context) ([]Info, error) { return c.d.list() }

// Remove deletes a snapshot.
func (c *Copy) Remove(ctx context.Context, key digest.Digest) error { return c.d.remove(key) }

// Prepare copies key's filesystem into dir/fs (once) and returns a bind mount of it.
func (c *Copy) Prepare(ctx context.Context, key digest.Digest, dir string) (Mount, error) {
	target := filepath.Join(dir, "fs")
	m := Mount{Type: "bind", Source: target, Options: []string{"rbind", "rw"}}
	if _, err := os.Stat(target); err == nil {
		return m, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
	}
	src, err := c.base(key)
	if err != nil {
		return Mount{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, tmpPrefix)
	if err != nil {
		return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := archive.NewDefaultArchiver().CopyWithTar(src, tmp); err != nil {
		return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
	}
	return m, nil
}

// Changes compares the container's copy, dir/fs, with key's filesystem.
func (c *Copy) Changes(ctx context.Context, key digest.Digest, dir string, exclude []string) ([]archive.Change, error) {
	base, err := c.base(key)
	if err != nil {
		return nil, err
	}
	changes, err := archive.ChangesDirs(filepath.Join(dir, "fs"), base)
	if err != nil {
		return nil, fmt.Errorf("changes of rw layer: %w", err)
	}
	fsRoot := filepath.Join(dir, "fs")
	changes = filterChanges(changes, exclude)
	out := changes[:0]
	for i, ch := range changes {
		if ch.Kind != archive.ChangeDelete && !hasChangeBelow(changes, i) {
			only, err := newOnlyMountPoints(filepath.Join(fsRoot, ch.Path), filepath.Join(base, ch.Path), ch.Path, exclude)
			if err != nil {
				return nil, err
			}
			if only {
				continue
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// hasChangeBelow tells whether another change lies inside changes[i]'s path.
func hasChangeBelow(changes []archive.Change, i int) bool {
	prefix := strings.TrimSuffix(changes[i].Path, "/") + "/"
	for j, ch := range changes {
		if j != i && strings.HasPrefix(ch.Path, prefix) {
			return true
		}
	}
	return false
}

// newOnlyMountPoints tells whether the folder p of a full copy, compared
// with the same folder in base, differs only by entries that are excluded
// mount points (at any depth), with its own mode unchanged: the
// runtime's, not the container's, as docker's init layer holds them.
func newOnlyMountPoints(p, base, rel string, exclude []string) (bool, error) {
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() {
		return false, err
	}
	if st, err := os.Lstat(base); err == nil && (!st.IsDir() || st.Mode() != fi.Mode()) {
		return false, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return false, err
	}
	added := 0
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(base, e.Name())); err == nil {
			continue // the image's own entry; a change of it is listed apart
		}
		added++
		childRel := filepath.Join(rel, e.Name())
		if excluded(filepath.ToSlash(childRel), exclude) {
			continue
		}
		if only, err := newOnlyMountPoints(filepath.Join(p, e.Name()), filepath.Join(base, e.Name()), childRel, exclude); err != nil || !only {
			return false, err
		}
	}
	return added > 0, nil
}

// Diff exports the changes of dir/fs against key as a layer tar.
func (c *Copy) Diff(ctx context.Context, key digest.Digest, dir string, exclude []string) (io.ReadCloser, error) {
	changes, err := c.Changes(ctx, key, dir, exclude)
	if err != nil {
		return nil, err
	}
	return archive.ExportChanges(filepath.Join(dir, "fs"), changes, user.IdentityMapping{})
}

// base is the directory holding key's complete filesystem.
func (c *Copy) base(key digest.Digest) (string, error) {
	if key == "" {
		return c.d.emptyDir(), nil
	}
	if _, err := c.d.stat(key); err != nil {
		return "", err
	}
	return c.d.diffDir(key), nil
}
