// Package userns owns --userns-remap: it resolves the remap user (creating
// berthremap and its subordinate ID ranges for "default", as dockerd does
// for dockremap), turns its /etc/subuid and /etc/subgid ranges into the
// identity mapping containers run under, and names the per-mapping data
// root (<data-root>/<uid>.<gid>) where images, containers and volumes live
// with shifted ownership.
package userns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultUser is the user "--userns-remap default" maps to (dockerd's
// dockremap).
const DefaultUser = "berthremap"

const (
	defaultSpecifier = "default"
	rangeStart       = 100000 // where dockerd starts looking for a free range
	rangeLen         = 65536  // the size of the range dockerd allocates
)

// System is where users and subordinate ranges are read and how they are
// created: the host's files and shadow tools, or temporary files in tests.
type System struct {
	Passwd, Group, Subuid, Subgid string
	// Run runs a user-administration command (useradd, usermod).
	Run func(name string, args ...string) error
}

// Host is the host's /etc files and shadow tools.
func Host() System {
	return System{
		Passwd: "/etc/passwd", Group: "/etc/group", Subuid: "/etc/subuid", Subgid: "/etc/subgid",
		Run: func(name string, args ...string) error {
			out, err := exec.Command(name, args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
			}
			return nil
		},
	}
}

// Remap is a resolved --userns-remap setting.
type Remap struct {
	User, Group string // the names it resolved to
	IDs         user.IdentityMapping
}

// Enabled reports whether containers run in a user namespace at all.
func (r Remap) Enabled() bool { return !r.IDs.Empty() }

// Root is the data root of the mapping under dataRoot, "<uid>.<gid>" of
// the host IDs container root maps to, as dockerd names it.
func (r Remap) Root(dataRoot string) string {
	uid, gid := r.IDs.RootPair()
	return filepath.Join(dataRoot, fmt.Sprintf("%d.%d", uid, gid))
}

// Resolve reads the --userns-remap value spec ("default", "user",
// "user:group", "uid" or "uid:gid") with dockerd's rules and messages. For
// "default" it creates berthremap with a free 65536-ID range when it is
// missing. Root maps to itself: the zero Remap, user namespaces off.
func (s System) Resolve(spec string) (Remap, error) {
	parts := strings.Split(spec, ":")
	if len(parts) > 2 || parts[0] == "" {
		return Remap{}, invalid("Invalid user/group specification in --userns-remap: %q", spec)
	}
	var r Remap
	if uid, err := strconv.ParseInt(parts[0], 10, 32); err == nil {
		u, err := s.userBy(func(u user.User) bool { return u.Uid == int(uid) })
		if err != nil {
			return Remap{}, invalid("Uid %d has no entry in /etc/passwd: %v", uid, err)
		}
		r.User = u.Name
		if len(parts) == 1 {
			g, err := s.groupBy(func(g user.Group) bool { return g.Gid == int(uid) })
			if err != nil {
				return Remap{}, invalid("Gid %d has no entry in /etc/group: %v", uid, err)
			}
			r.Group = g.Name
		}
	} else {
		name := parts[0]
		if name == defaultSpecifier {
			name = DefaultUser
		}
		u, err := s.userBy(func(u user.User) bool { return u.Name == name })
		switch {
		case err != nil && parts[0] != defaultSpecifier:
			return Remap{}, invalid("Error during uid lookup for %q: %v", name, err)
		case err != nil:
			if err := s.addRangesUser(DefaultUser); err != nil {
				return Remap{}, fmt.Errorf("Error during %q user creation: %w", DefaultUser, err)
			}
			if u, err = s.userBy(func(u user.User) bool { return u.Name == name }); err != nil {
				return Remap{}, fmt.Errorf("Error during %q user creation: %w", DefaultUser, err)
			}
		}
		r.User = u.Name
		if len(parts) == 1 {
			g, err := s.groupBy(func(g user.Group) bool { return g.Name == name })
			if err != nil {
				return Remap{}, invalid("Error during gid lookup for %q: %v", name, err)
			}
			r.Group = g.Name
		}
	}
	if len(parts) == 2 {
		g, err := s.groupBy(func(g user.Group) bool { return g.Name == parts[1] || strconv.Itoa(g.Gid) == parts[1] })
		if err != nil {
			return Remap{}, invalid("Error during groupname lookup for %q: %v", parts[1], err)
		}
		r.Group = g.Name
	}
	if r.User == "root" {
		// a 1-to-1 mapping of root is no remapping: dockerd warns and turns it off
		return Remap{User: "root", Group: r.Group}, nil
	}
	ids, err := s.mapping(r.User)
	if err != nil {
		return Remap{}, fmt.Errorf("Can't create ID mappings: %w", err)
	}
	r.IDs = ids
	return r, nil
}

func invalid(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}

func (s System) userBy(match func(user.User) bool) (user.User, error) {
	users, err := user.ParsePasswdFileFilter(s.Passwd, match)
	if err != nil {
		return user.User{}, err
	}
	if len(users) == 0 {
		return user.User{}, errors.New("no matching entries in passwd file")
	}
	return users[0], nil
}

func (s System) groupBy(match func(user.Group) bool) (user.Group, error) {
	groups, err := user.ParseGroupFileFilter(s.Group, match)
	if err != nil {
		return user.Group{}, err
	}
	if len(groups) == 0 {
		return user.Group{}, errors.New("no matching entries in group file")
	}
	return groups[0], nil
}

// mapping is name's subordinate ranges, both looked up by the user (by
// name or uid), as dockerd's NewIdentityMapping does.
func (s System) mapping(name string) (user.IdentityMapping, error) {
	u, err := s.userBy(func(u user.User) bool { return u.Name == name })
	if err != nil {
		return user.IdentityMapping{}, err
	}
	uids, err := s.ranges(s.Subuid, u, "subuid")
	if err != nil {
		return user.IdentityMapping{}, err
	}
	gids, err := s.ranges(s.Subgid, u, "subgid")
	if err != nil {
		return user.IdentityMapping{}, err
	}
	return user.IdentityMapping{UIDMaps: uids, GIDMaps: gids}, nil
}

func (s System) ranges(path string, u user.User, kind string) ([]user.IDMap, error) {
	uid := strconv.Itoa(u.Uid)
	subs, err := s.subIDs(path, func(sub user.SubID) bool { return sub.Name == u.Name || sub.Name == uid })
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("no %s ranges found for user %q", kind, u.Name)
	}
	var maps []user.IDMap
	var next int64
	for _, sub := range subs {
		maps = append(maps, user.IDMap{ID: next, ParentID: sub.SubID, Count: sub.Count})
		next += sub.Count
	}
	return maps, nil
}

// subIDs reads a subordinate-ID file; a missing one holds no ranges.
func (s System) subIDs(path string, match func(user.SubID) bool) ([]user.SubID, error) {
	subs, err := user.ParseSubIDFileFilter(path, match)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return subs, err
}

// addRangesUser creates the system user and group name and gives them the
// first free 65536-ID ranges from 100000 up, unless the distribution's
// tools already did, as dockerd's AddNamespaceRangesUser does.
func (s System) addRangesUser(name string) error {
	if err := s.Run("useradd", "-r", "-U", "-s", "/bin/false", name); err != nil {
		return err
	}
	for _, f := range []struct{ path, flag string }{{s.Subuid, "-v"}, {s.Subgid, "-w"}} {
		own, err := s.subIDs(f.path, func(sub user.SubID) bool { return sub.Name == name })
		if err != nil {
			return err
		}
		if len(own) > 0 {
			continue
		}
		all, err := s.subIDs(f.path, func(user.SubID) bool { return true })
		if err != nil {
			return err
		}
		start := nextRangeStart(all)
		if err := s.Run("usermod", f.flag, fmt.Sprintf("%d-%d", start, start+rangeLen-1), name); err != nil {
			return err
		}
	}
	return nil
}

// nextRangeStart is the first ID from 100000 where a 65536-ID range
// overlaps none of taken.
func nextRangeStart(taken []user.SubID) int64 {
	sort.Slice(taken, func(i, j int) bool { return taken[i].SubID < taken[j].SubID })
	start := int64(rangeStart)
	for _, r := range taken {
		if start < r.SubID+r.Count && r.SubID < start+rangeLen {
			start = r.SubID + r.Count
		}
	}
	return start
}

// SpecMappings converts maps to the OCI spec's form.
func SpecMappings(maps []user.IDMap) []specs.LinuxIDMapping {
	out := make([]specs.LinuxIDMapping, 0, len(maps))
	for _, m := range maps {
		out = append(out, specs.LinuxIDMapping{ContainerID: uint32(m.ID), HostID: uint32(m.ParentID), Size: uint32(m.Count)})
	}
	return out
}
