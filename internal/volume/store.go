package volume

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/atomicfile"
)

// AnonymousLabel marks a volume created for one container's anonymous
// mount, as docker marks it: prune removes only these unless asked for all.
const AnonymousLabel = "com.docker.volume.anonymous"

// Volume is one local volume: its data lives in Mountpoint. A volume with
// Options (the local driver's type, device and o) has its device mounted
// on Mountpoint while a container uses it.
type Volume struct {
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
	CreatedAt  time.Time         `json:"createdAt"`
	Mountpoint string            `json:"-"`
}

// Anonymous reports whether the volume was created for an anonymous mount.
func (v *Volume) Anonymous() bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// Store is the local volume driver: each volume is <root>/<name>/_data,
// described by <root>/<name>/volume.json (written atomically; a folder
// without it is a creation that did not finish, and is not a volume).
type Store struct {
	root     string
	uid, gid int // owner of new volume folders (WithOwner)

	mu   sync.Mutex
	vols map[string]*Volume
	// users holds, per volume with Options, the containers it is
	// mounted for (Mount, Release).
	users map[string]map[string]bool
}

const metaFile = "volume.json"

// Option configures a volume store.
type Option func(*Store)

// WithOwner makes uid and gid own the volumes' folders, as dockerd's local
// driver gives them to the remapped root under --userns-remap.
func WithOwner(uid, gid int) Option {
	return func(s *Store) { s.uid, s.gid = uid, gid }
}

// Open loads the volumes under root, creating root if needed.
func Open(root string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, fmt.Errorf("create volume root: %w", err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read volume root: %w", err)
	}
	s := &Store{root: root, vols: map[string]*Volume{}, users: map[string]map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(root, e.Name(), metaFile))
		if errors.Is(err, fs.ErrNotExist) && e.IsDir() {
			// a creation or removal that a crash cut short (the metadata is
			// written last and removed first): not a volume, never will be
			removeIncomplete(filepath.Join(root, e.Name()))
			continue
		}
		if err != nil {
			continue
		}
		var v Volume
		if err := json.Unmarshal(data, &v); err != nil || v.Name != e.Name() {
			continue
		}
		v.Mountpoint = s.dataDir(v.Name)
		s.vols[v.Name] = &v
	}
	return s, nil
}

// removeIncomplete deletes the folder of a volume that is not one, best
// effort: never while a device may still be mounted on its data.
func removeIncomplete(dir string) {
	if unmountDevice(filepath.Join(dir, "_data")) != nil {
		return
	}
	_ = os.RemoveAll(dir)
}

func (s *Store) dataDir(name string) string { return filepath.Join(s.root, name, "_data") }

// Create returns the volume called name, creating it with labels and the
// local driver's options when it does not exist yet (as docker's local
// driver, an existing volume is returned as it is). An empty name makes an
// anonymous volume with a random 64-hex name.
func (s *Store) Create(name string, labels, opts map[string]string) (*Volume, error) {
	if name == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		name = hex.EncodeToString(b)
		labels = maps.Clone(labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[AnonymousLabel] = ""
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := ValidateOptions(opts); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[name]; ok {
		return v, nil
	}
	v := &Volume{Name: name, Labels: maps.Clone(labels), Options: maps.Clone(opts), CreatedAt: time.Now().UTC().Truncate(time.Second), Mountpoint: s.dataDir(name)}
	if err := os.MkdirAll(v.Mountpoint, 0o755); err != nil {
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	if s.uid != 0 || s.gid != 0 {
		if err := os.Chown(v.Mountpoint, s.uid, s.gid); err != nil {
			return nil, fmt.Errorf("create volume %s: %w", name, err)
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(s.root, name, metaFile), data, 0o600); err != nil {
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	s.vols[name] = v
	return v, nil
}

// Get returns the volume called name.
func (s *Store) Get(name string) (*Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
}

// List returns every volume, by name.
func (s *Store) List() []*Volume {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.SortedFunc(maps.Values(s.vols), func(a, b *Volume) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
}

// Remove deletes the volume and its data. The metadata goes first, so a
// crash midway leaves a folder Open ignores rather than a half-empty
// volume.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vols[name]; !ok {
		return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	dir := filepath.Join(s.root, name)
	if err := unmountDevice(s.dataDir(name)); err != nil {
		// never remove the content of a device still mounted there
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if err := os.Remove(filepath.Join(dir, metaFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	delete(s.vols, name)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// validOptions are the options of docker's local driver, and the options
// each one needs beside it.
var validOptions = map[string][]string{
	"type":   {"device"},
	"device": {"type"},
	"o":      {"device", "type"},
	"size":   nil,
}

// ValidateOptions refuses local driver options docker refuses, with its
// messages.
func ValidateOptions(opts map[string]string) error {
	for _, key := range slices.Sorted(maps.Keys(opts)) {
		if _, ok := validOptions[key]; !ok {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid option: %q", key))
		}
	}
	if _, ok := opts["size"]; ok {
		// docker sizes volumes with xfs project quotas, which berth has not
		return errdefs.ErrInvalidArgument.WithMessage("quota size requested but no quota support")
	}
	for _, key := range slices.Sorted(maps.Keys(opts)) {
		for _, needed := range validOptions[key] {
			if _, ok := opts[needed]; !ok {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("missing required option: %q", needed))
			}
		}
	}
	return nil
}

// Mount records that the container user uses the volume, mounting the
// volume's device on its folder first when the volume has one and is not
// mounted yet (after a daemon restart it still is). A volume without
// options is a plain folder: nothing to mount.
func (s *Store) Mount(name, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	if len(v.Options) == 0 {
		return nil
	}
	if len(s.users[name]) == 0 {
		if err := mountDevice(v.Options, v.Mountpoint); err != nil {
			return fmt.Errorf("error while mounting volume '%s': %w", v.Mountpoint, err)
		}
	}
	if s.users[name] == nil {
		s.users[name] = map[string]bool{}
	}
	s.users[name][user] = true
	return nil
}

// Release forgets the container user's uses of volumes, and unmounts the
// devices no container uses any more, as docker's local driver does when
// the last container using a volume stops. Best effort.
func (s *Store) Release(user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, users := range s.users {
		if !users[user] {
			continue
		}
		delete(users, user)
		if len(users) > 0 {
			continue
		}
		delete(s.users, name)
		if v, ok := s.vols[name]; ok {
			if err := unmountDevice(v.Mountpoint); err != nil {
				errs = append(errs, fmt.Errorf("unmount volume %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// DirSize sums the sizes of the regular files under dir (hard links
// counted each time, as docker's volume usage does); 0 when dir is gone.
func DirSize(dir string) int64 {
	var size int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size
}
