// Package container owns the container record: its configuration as created,
// its lifecycle state and the transition table that guards it, its atomic
// persistence, docker's rules for merging an image config with a create
// request, and the in-memory index that resolves names, ids and id prefixes.
package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/atomicfile"
)

// configFile is the name of the record inside a container's data folder.
const configFile = "config.json"

// Container is one container's record. Callers serialize access to it with
// Lock and Unlock; the lock is not persisted.
type Container struct {
	ID      string
	Name    string // with docker's leading "/"
	Created time.Time

	Path string   // the process: entrypoint + cmd, split
	Args []string //

	Config     *containertypes.Config     // image config merged with the request
	HostConfig *containertypes.HostConfig //
	// NetworkingConfig holds the per-network settings of create (aliases, --ip).
	NetworkingConfig *network.NetworkingConfig `json:",omitempty"`
	ImageID          string                    // "sha256:..."
	// VolumesFromMounts are the mounts taken from other containers with
	// --volumes-from, resolved at create as docker does (they stay when
	// the other container is removed).
	VolumesFromMounts []mount.Mount `json:",omitempty"`

	State        State
	RestartCount int
	// ManuallyStopped is set by stop and kill: the restart policy then leaves
	// the container alone (until the daemon restarts, for "always").
	ManuallyStopped bool `json:"HasBeenManuallyStopped"`

	LogPath        string
	HostnamePath   string
	HostsPath      string
	ResolvConfPath string

	mu    sync.Mutex
	saved atomic.Pointer[[]byte] // the record as last saved or loaded, for Saved
}

// Lock locks the container for its caller.
func (c *Container) Lock() { c.mu.Lock() }

// TryLock locks the container unless another holds the lock, and reports
// whether it did.
func (c *Container) TryLock() bool { return c.mu.TryLock() }

// Unlock unlocks the container.
func (c *Container) Unlock() { c.mu.Unlock() }

// ShortID returns the 12-character form of the container's id.
func (c *Container) ShortID() string {
	if len(c.ID) > 12 {
		return c.ID[:12]
	}
	return c.ID
}

// Save writes the record atomically to <dir>/config.json. The caller holds
// the lock.
func (c *Container) Save(dir string) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode container %s: %w", c.ID, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, configFile), data, 0o600); err != nil {
		return fmt.Errorf("save container %s: %w", c.ID, err)
	}
	c.saved.Store(&data)
	return nil
}

// Saved returns a copy of the container as last saved (or loaded), read
// without its lock, or nil when it was never saved: what a reader that
// must not wait for the lock's holder (ps while a start runs) shows, as
// docker's ps reads the last committed states.
func (c *Container) Saved() *Container {
	data := c.saved.Load()
	if data == nil {
		return nil
	}
	s, err := decode(*data)
	if err != nil {
		return nil
	}
	s.saved.Store(data)
	return s
}

// Load reads the record saved in dir. A missing record is reported as
// errdefs.ErrNotFound (and os.ErrNotExist); an unreadable one as
// errdefs.ErrDataLoss.
func Load(dir string) (*Container, error) {
	path := filepath.Join(dir, configFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load container: %w: %w", errdefs.ErrNotFound, err)
		}
		return nil, fmt.Errorf("load container: %w", err)
	}
	c, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("load container %s: %w: %w", path, errdefs.ErrDataLoss, err)
	}
	c.saved.Store(&data)
	return c, nil
}

// decode parses a saved record.
func decode(data []byte) (*Container, error) {
	c := &Container{}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, err
	}
	if c.ID == "" || c.Config == nil || c.HostConfig == nil {
		return nil, errors.New("incomplete record")
	}
	if c.State.Status == "" {
		c.State.Status = containertypes.StateCreated
	}
	return c, nil
}
