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

	mu sync.Mutex
}

// Lock locks the container for its caller.
func (c *Container) Lock() { c.mu.Lock() }

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
	return nil
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
	c := &Container{}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("load container %s: %w: %w", path, errdefs.ErrDataLoss, err)
	}
	if c.ID == "" || c.Config == nil || c.HostConfig == nil {
		return nil, fmt.Errorf("load container %s: %w: incomplete record", path, errdefs.ErrDataLoss)
	}
	if c.State.Status == "" {
		c.State.Status = containertypes.StateCreated
	}
	return c, nil
}
