package container

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
)

// validName is docker's rule for container names.
var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Store is the in-memory index of containers and of the names they hold.
// It is safe for concurrent use; it does not lock the containers themselves.
type Store struct {
	mu    sync.RWMutex
	byID  map[string]*Container
	names map[string]string // "/name" -> id
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{byID: map[string]*Container{}, names: map[string]string{}}
}

// Add indexes c by its id. Its name is reserved separately (ReserveName).
func (s *Store) Add(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[c.ID] = c
}

// Delete drops the container with the given full id and every name it holds.
func (s *Store) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
	for name, holder := range s.names {
		if holder == id {
			delete(s.names, name)
		}
	}
}

// List returns every container, newest first.
func (s *Store) List() []*Container {
	s.mu.RLock()
	list := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		list = append(list, c)
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b *Container) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return list
}

// Get resolves ref as docker does: a full id, then an exact name (with or
// without the leading "/"), then a unique id prefix. An unknown ref is
// errdefs.ErrNotFound ("No such container: <ref>"), an ambiguous prefix
// errdefs.ErrInvalidArgument.
func (s *Store) Get(ref string) (*Container, error) {
	if ref == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid name or ID supplied: %q", ref))
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	if id, ok := s.names[canonicalName(ref)]; ok {
		if c, ok := s.byID[id]; ok {
			return c, nil
		}
	}
	var found *Container
	for id, c := range s.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, errdefs.ErrInvalidArgument.WithMessage("multiple IDs found with provided prefix: " + ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, errdefs.ErrNotFound.WithMessage("No such container: " + ref)
	}
	return found, nil
}

// canonicalName adds docker's leading "/" to a name.
func canonicalName(name string) string {
	return "/" + strings.TrimPrefix(name, "/")
}

// ValidateName checks a user-supplied name against docker's rule.
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name))
	}
	return nil
}

// ReserveName gives name to the container with the given id. Reserving a
// name the same container already holds succeeds.
func (s *Store) ReserveName(name, id string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reserve(canonicalName(name), id)
}

func (s *Store) reserve(name, id string) error {
	if holder, ok := s.names[name]; ok && holder != id {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", name, holder))
	}
	s.names[name] = id
	return nil
}

// ReserveGeneratedName gives the container with the given id a fresh
// docker-style name (GenerateName) and returns it, with its leading "/".
// The draw and the reservation happen under one lock, so that concurrent
// creates never draw the same name: a generated name never fails with a
// conflict (docker retries its draws for the same reason).
func (s *Store) ReserveGeneratedName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := canonicalName(GenerateName(func(n string) bool {
		_, taken := s.names[canonicalName(n)]
		return taken
	}))
	s.names[name] = id
	return name
}

// ReleaseName frees a name; releasing a free name does nothing.
func (s *Store) ReleaseName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.names, canonicalName(name))
}

// Rename moves the container with the given id to newName, releasing its
// old name, and updates its Name. The caller holds the container's lock
// and saves the record afterwards.
func (s *Store) Rename(id, newName string) error {
	if newName == "" || newName == "/" {
		return errdefs.ErrInvalidArgument.WithMessage("Neither old nor new names may be empty")
	}
	if err := ValidateName(newName); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return errdefs.ErrNotFound.WithMessage("No such container: " + id)
	}
	newName = canonicalName(newName)
	if c.Name == newName {
		return errdefs.ErrInvalidArgument.WithMessage("Renaming a container with the same name as its current name")
	}
	if err := s.reserve(newName, id); err != nil {
		return err
	}
	if c.Name != "" && s.names[c.Name] == id {
		delete(s.names, c.Name)
	}
	c.Name = newName
	return nil
}
