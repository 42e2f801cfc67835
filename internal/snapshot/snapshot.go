// Package snapshot owns unpacked image layers: each layer is extracted once
// into <root>/<chainID hex>/diff and shared by every image and container that
// uses it. A Snapshotter unpacks layers and hands out mounts of writable views.
//
// Typical use:
//
//	info, err := sn.Unpack(ctx, parentChainID, layerTar, diffID) // info.Key is the chain ID
//	m, err := sn.Prepare(ctx, topChainID, containerRWDir)          // per container
//	err = m.MountAt(rootfs)
//	...
//	err = snapshot.Unmount(rootfs)
package snapshot

import (
	"context"
	"io"

	"github.com/moby/go-archive"
	"github.com/moby/sys/user"
	"github.com/opencontainers/go-digest"
)

// Info describes a committed snapshot (one unpacked layer).
type Info struct {
	Key     digest.Digest `json:"key"`              // the layer's chain ID
	Parent  digest.Digest `json:"parent,omitempty"` // the chain ID below it, "" for a base layer
	DiffID  digest.Digest `json:"diffID"`           // digest of the uncompressed layer tar
	TarSize int64         `json:"tarSize"`          // bytes in the uncompressed layer tar
	Size    int64         `json:"size"`             // bytes of file content in this layer
}

// Snapshotter stores unpacked layers and prepares writable views of them.
type Snapshotter interface {
	// Unpack applies the uncompressed layer tar on top of parent ("" for
	// none), reading it to the end, and commits the result under its chain
	// ID (see ChainID). The snapshot becomes visible only once complete. When
	// expected is not empty the layer's digest must match it. When the chain
	// ID exists already, the existing snapshot is kept and returned: each
	// layer is unpacked once.
	Unpack(ctx context.Context, parent digest.Digest, layer io.Reader, expected digest.Digest) (Info, error)
	// Stat returns a snapshot's info or an error wrapping errdefs.ErrNotFound.
	Stat(ctx context.Context, key digest.Digest) (Info, error)
	// List returns every committed snapshot.
	List(ctx context.Context) ([]Info, error)
	// Remove deletes a snapshot; removing a missing one is not an error.
	Remove(ctx context.Context, key digest.Digest) error
	// Prepare returns the mount of a writable view of key ("" for an empty
	// filesystem) whose changes are kept under dir. Calling it again with the
	// same dir reuses the changes made so far.
	Prepare(ctx context.Context, key digest.Digest, dir string) (Mount, error)
	// Changes lists what the writable view kept under dir changed against
	// key (as docker diff shows it), leaving out exclude: absolute paths
	// whose entries, and everything below them, are not the container's
	// own changes (mount points the runtime created).
	Changes(ctx context.Context, key digest.Digest, dir string, exclude []string) ([]archive.Change, error)
	// Diff streams the same changes as an uncompressed layer tar, with
	// deletions as OCI whiteouts, to commit them as a new layer on key.
	Diff(ctx context.Context, key digest.Digest, dir string, exclude []string) (io.ReadCloser, error)
}

// ctxReader stops a long unpack when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ChainID identifies a layer together with every layer below it, as in the
// OCI image spec: the diff ID for a base layer, else
// sha256(parent chain ID + " " + diff ID).
func ChainID(parent, diffID digest.Digest) digest.Digest {
	if parent == "" {
		return diffID
	}
	return digest.FromString(parent.String() + " " + diffID.String())
}

// Option configures a snapshotter.
type Option func(*options)

type options struct {
	ids user.IdentityMapping
}

// WithIDMap stores files with their owners shifted into ids' host range
// (--userns-remap): layers are unpacked with container IDs mapped to host
// IDs, writable views are owned by the mapped root, and diffs map them
// back, as dockerd's drivers do under a remapped root.
func WithIDMap(ids user.IdentityMapping) Option {
	return func(o *options) { o.ids = ids }
}
