//go:build linux

package snapshot

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/moby/go-archive"
	"github.com/moby/sys/user"
	"github.com/opencontainers/go-digest"
)

// Overlay stores each layer's own files (with whiteouts converted to
// overlayfs form: 0/0 character devices and trusted.overlay.opaque=y) and
// mounts a container as an overlay of the layer chain.
type Overlay struct {
	d        *dirs
	indexOff bool
	ids      user.IdentityMapping
}

var _ Snapshotter = (*Overlay)(nil)

// NewOverlay opens (creating if needed) an overlay snapshot store at root,
// removing leftovers of interrupted unpacks.
func NewOverlay(root string, opts ...Option) (Snapshotter, error) {
	d, err := openDirs(root)
	if err != nil {
		return nil, err
	}
	// index=off, as dockerd does, lets a rw layer be remounted over lower
	// layers whose inodes changed (e.g. after a copy of the data root).
	_, err = os.Stat("/sys/module/overlay/parameters/index")
	o := &Overlay{d: d, indexOff: err == nil}
	var set options
	for _, opt := range opts {
		opt(&set)
	}
	o.ids = set.ids
	return o, nil
}

// Unpack extracts the layer into its own directory, converting whiteouts.
func (o *Overlay) Unpack(ctx context.Context, parent digest.Digest, layer io.Reader, expected digest.Digest) (Info, error) {
	return o.d.create(ctx, parent, layer, expected, func(diff string, layer io.Reader) (int64, error) {
		opts := &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat, IDMap: o.ids}
		if err := archive.Unpack(layer, diff, opts); err != nil {
			return 0, err
		}
		return dirSize(diff)
	})
}

// Stat returns the info of a committed snapshot.
func (o *Overlay) Stat(ctx context.Context, key digest.Digest) (Info, error) {
	return o.d.stat(key)
}

// List returns every committed snapshot.
func (o *Overlay) List(ctx context.Context) ([]Info, error) { return o.d.list() }

// Remove deletes a snapshot.
func (o *Overlay) Remove(ctx context.Context, key digest.Digest) error { return o.d.remove(key) }

// Prepare creates dir/upper and dir/work and returns the overlay mount with
// the layer chain of key as lower directories, top first.
func (o *Overlay) Prepare(ctx context.Context, key digest.Digest, dir string) (Mount, error) {
	lowers, err := o.lowers(key)
	if err != nil {
		return Mount{}, err
	}
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, p := range []string{upper, work} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
		}
		// the root of the container's filesystem belongs to its root
		if uid, gid := o.ids.RootPair(); uid != 0 || gid != 0 {
			if err := os.Chown(p, uid, gid); err != nil {
				return Mount{}, fmt.Errorf("prepare rw layer: %w", err)
			}
		}
	}
	return Mount{Type: "overlay", Source: "overlay", Options: o.options(lowers, upper, work)}, nil
}

// Changes walks dir/upper: a 0/0 character device is a deletion, an entry
// the lower layers lack an addition, any other a modification.
func (o *Overlay) Changes(ctx context.Context, key digest.Digest, dir string, exclude []string) ([]archive.Change, error) {
	lowers, err := o.lowers(key)
	if err != nil {
		return nil, err
	}
	changes, err := upperChanges(lowers, filepath.Join(dir, "upper"), exclude, func(_ string, fi os.FileInfo) (bool, error) {
		return isWhiteout(fi), nil
	})
	if err != nil {
		return nil, fmt.Errorf("changes of rw layer: %w", err)
	}
	return changes, nil
}

// Diff tars dir/upper, converting overlay whiteouts and opaque directories
// to their OCI form, as dockerd's overlay2 driver does.
func (o *Overlay) Diff(ctx context.Context, key digest.Digest, dir string, exclude []string) (io.ReadCloser, error) {
	if _, err := o.lowers(key); err != nil {
		return nil, err
	}
	return archive.TarWithOptions(filepath.Join(dir, "upper"), &archive.TarOptions{
		WhiteoutFormat:  archive.OverlayWhiteoutFormat,
		ExcludePatterns: relPatterns(exclude),
		IDMap:           o.ids,
	})
}

// isWhiteout reports an overlayfs whiteout: a 0/0 character device.
func isWhiteout(fi os.FileInfo) bool {
	if fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

// lowers are the layer directories of key's chain, top first.
func (o *Overlay) lowers(key digest.Digest) ([]string, error) {
	if key == "" {
		return []string{o.d.emptyDir()}, nil
	}
	chain, err := o.d.chain(key)
	if err != nil {
		return nil, err
	}
	lowers := make([]string, 0, len(chain))
	for _, k := range chain {
		lowers = append(lowers, o.d.diffDir(k))
	}
	return lowers, nil
}

func (o *Overlay) options(lowers []string, upper, work string) []string {
	var opts []string
	if o.indexOff {
		opts = append(opts, "index=off")
	}
	return append(opts, "lowerdir="+strings.Join(lowers, ":"), "upperdir="+upper, "workdir="+work)
}
