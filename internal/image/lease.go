package image

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/atomicfile"
)

// leaseTTL is how long the verified blobs and layers of an interrupted pull
// are kept for the next pull to reuse (containerd keeps its pull leases as
// long).
const leaseTTL = 24 * time.Hour

// leases keep the blobs and layers of unfinished pulls from garbage
// collection. Each lease is also a file under image/leases/, so a pull cut
// short (by an error, a cancel or a crash) leaves what it had verified to
// the next pull, until the lease expires. Callers hold Store.mu.
type leases struct {
	dir string
	m   map[string]*lease
}

// lease is what one pull needs kept.
type lease struct {
	id      string
	Blobs   []digest.Digest `json:"blobs"`
	Chains  []digest.Digest `json:"chains"`
	Expires time.Time       `json:"expires"`
	active  bool            // its pull is still running in this process
}

// openLeases reads the leases left by earlier runs, dropping expired ones.
func openLeases(dir string) (*leases, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	l := &leases{dir: dir, m: map[string]*lease{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	now := time.Now()
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			_ = os.Remove(p)
			continue
		}
		data, err := os.ReadFile(p)
		var le lease
		if err != nil || json.Unmarshal(data, &le) != nil || now.After(le.Expires) {
			_ = os.Remove(p)
			continue
		}
		le.id = id
		l.m[id] = &le
	}
	return l, nil
}

// keep adds what the live leases hold to the sets garbage collection keeps.
func (l *leases) keep(snaps, blobs map[digest.Digest]bool) {
	if l == nil {
		return
	}
	now := time.Now()
	for _, le := range l.m {
		if !le.active && now.After(le.Expires) {
			continue
		}
		for _, c := range le.Chains {
			snaps[c] = true
		}
		for _, b := range le.Blobs {
			blobs[b] = true
		}
	}
}

// add records a new active lease, on disk first.
func (l *leases) add(blobs, chains []digest.Digest) (*lease, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	le := &lease{id: hex.EncodeToString(b), Blobs: blobs, Chains: chains, Expires: time.Now().Add(leaseTTL), active: true}
	data, err := json.Marshal(le)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(l.dir, le.id+".json"), data, 0o600); err != nil {
		return nil, fmt.Errorf("write pull lease: %w", err)
	}
	l.m[le.id] = le
	return le, nil
}

// release ends a lease. With keep, its file stays until it expires, so the
// next pull finds the verified blobs and layers; otherwise it is removed.
func (l *leases) release(le *lease, keep bool) {
	le.active = false
	if keep {
		return
	}
	delete(l.m, le.id)
	if err := os.Remove(filepath.Join(l.dir, le.id+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
}

// dropInactive removes every lease whose pull is over (image prune).
func (l *leases) dropInactive() {
	for _, le := range l.m {
		if !le.active {
			l.release(le, false)
		}
	}
}
