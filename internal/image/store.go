// Package image owns the local image store: image configs and layer blobs in
// the content store, unpacked layers in the snapshotter, and the repository
// references (repo:tag, repo@digest) that name images. It implements docker's
// image operations (get, list, inspect, history, tag, delete, import, load,
// save), prepares containers' root filesystems, and offers the ingestion
// API (ingest.go) through which internal/distribution pulls and pushes; it
// speaks no registry protocol itself.
//
// On disk, under the data root:
//
//	content/blobs/sha256/<hex>     configs and layer blobs, digest-verified
//	snapshot/<chainID hex>/diff    each layer unpacked once
//	image/images/<id hex>.json     one record per image (its layer blobs)
//	image/refs.json                references -> image id
//	containers/<id>/rw/            a container's writable layer
//
// An image becomes visible when its record is written, after its blobs and
// layers are complete; leftovers of a crash are collected on open.
package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/snapshot"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
)

// Store is the local image store. It is safe for concurrent use.
type Store struct {
	root    string
	content *content.Store
	snaps   snapshot.Snapshotter
	log     *slog.Logger

	mu     sync.RWMutex
	images map[digest.Digest]*record
	refs   *refStore
	leases *leases // what unfinished pulls need kept, under mu
	// writeMu serialises operations that add or remove layers and blobs, so
	// garbage collection never races an import or load.
	writeMu sync.Mutex
}

// Image is an image of the store, as the daemon needs it.
type Image struct {
	ID          string // "sha256:<hex>", the config digest
	Config      dockerspec.DockerOCIImage
	RepoTags    []string // familiar form: "busybox:latest"
	RepoDigests []string
	Size        int64         // sum of the layers' sizes
	ChainID     digest.Digest // of the top layer, "" when there are no layers
}

// Option configures NewStore.
type Option func(*Store)

// WithLogger sets where the store logs its warnings (slog.Default when
// not set).
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// WithSnapshotter unpacks layers with sn (whose root should be
// <root>/snapshot) instead of overlayfs snapshots.
func WithSnapshotter(sn snapshot.Snapshotter) Option { return func(s *Store) { s.snaps = sn } }

// NewStore opens (creating if needed) the image store under the data root,
// using overlayfs snapshots unless WithSnapshotter says otherwise.
func NewStore(root string, opts ...Option) (*Store, error) {
	s := &Store{root: root, images: map[digest.Digest]*record{}, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.snaps == nil {
		sn, err := snapshot.NewOverlay(filepath.Join(root, "snapshot"))
		if err != nil {
			return nil, err
		}
		s.snaps = sn
	}
	cs, err := content.New(filepath.Join(root, "content"))
	if err != nil {
		return nil, err
	}
	s.content = cs
	for _, d := range []string{s.recordsDir(), s.containersDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("image store: %w", err)
		}
	}
	if err := os.RemoveAll(s.tmpDir()); err != nil {
		return nil, fmt.Errorf("image store: clean temp: %w", err)
	}
	ctx := context.Background()
	if err := s.loadRecords(ctx); err != nil {
		return nil, err
	}
	if s.refs, err = openRefs(filepath.Join(root, "image", "refs.json")); err != nil {
		return nil, err
	}
	// Drop references to images that did not survive a crash. refs.json is
	// written only then: a daemon must start on a full disk.
	dropped := false
	for _, ref := range s.refs.all() {
		if _, ok := s.images[ref.id]; !ok {
			s.refs.delete(ref.named)
			dropped = true
		}
	}
	if dropped {
		if err := s.refs.save(); err != nil {
			return nil, err
		}
	}
	if s.leases, err = openLeases(filepath.Join(root, "image", "leases")); err != nil {
		return nil, err
	}
	if err := s.gc(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) recordsDir() string    { return filepath.Join(s.root, "image", "images") }
func (s *Store) tmpDir() string        { return filepath.Join(s.root, "image", "tmp") }
func (s *Store) containersDir() string { return filepath.Join(s.root, "containers") }

// loadRecords reads every image record whose config and layers are intact.
func (s *Store) loadRecords(ctx context.Context) error {
	entries, err := os.ReadDir(s.recordsDir())
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(s.recordsDir(), e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			_ = os.Remove(p) // an interrupted atomic write
			continue
		}
		rec, err := s.readRecord(ctx, p)
		if err != nil {
			s.log.Warn("image store: dropping broken image record", "record", e.Name(), "error", err)
			_ = os.Remove(p)
			continue
		}
		s.images[rec.ID] = rec
	}
	return nil
}

func (s *Store) readRecord(ctx context.Context, p string) (*record, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, err
	}
	raw, err := s.content.ReadBlob(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	if err := rec.setConfig(raw); err != nil {
		return nil, err
	}
	for _, l := range rec.Layers {
		if _, err := s.snaps.Stat(ctx, l.ChainID); err != nil {
			return nil, err
		}
		if !s.content.Exists(ctx, l.Blob) {
			return nil, fmt.Errorf("layer blob %s: missing", l.Blob)
		}
	}
	return &rec, nil
}

// writeRecord persists rec; the image becomes visible to a restarted store.
func (s *Store) writeRecord(rec *record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.recordsDir(), rec.ID.Encoded()+".json"), data, 0o600)
}

func (s *Store) removeRecord(id digest.Digest) error {
	err := os.Remove(filepath.Join(s.recordsDir(), id.Encoded()+".json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove image record: %w", err)
	}
	return atomicfile.SyncDir(s.recordsDir())
}

// addImage records a complete image (config blob and layers committed) and
// points refs at it, under s.mu held for writing.
func (s *Store) addImageLocked(rec *record) error {
	if old, ok := s.images[rec.ID]; ok {
		rec.Created, rec.LastTagTime = old.Created, old.LastTagTime
	} else if rec.Created.IsZero() {
		rec.Created = time.Now().UTC()
	}
	if err := s.writeRecord(rec); err != nil {
		return err
	}
	s.images[rec.ID] = rec
	return nil
}
