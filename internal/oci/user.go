package oci

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ResolveUser resolves a container's --user ("", "name", "uid",
// "name:group", "uid:gid" and mixes) against the image's /etc/passwd and
// /etc/group under rootfs, as docker does: a user found in passwd brings its
// primary group and the supplementary groups listing it; numeric ids absent
// from the files are used as they are; "" is root. AdditionalGids holds the
// primary gid first, then the supplementary groups.
//
// A user or group the image does not know is an errdefs.ErrInternal, as
// dockerd answers it (500): it is found while the runtime spec is made, at
// start or exec, and moby makes every error of that step a system error.
func ResolveUser(rootfs, spec string) (specs.User, error) {
	passwd, err := openScoped(rootfs, "/etc/passwd")
	if err != nil {
		return specs.User{}, err
	}
	defer closeFile(passwd)
	group, err := openScoped(rootfs, "/etc/group")
	if err != nil {
		return specs.User{}, err
	}
	defer closeFile(group)
	eu, err := user.GetExecUser(spec, nil, reader(passwd), reader(group))
	if err != nil {
		if errors.Is(err, user.ErrNoPasswdEntries) || errors.Is(err, user.ErrNoGroupEntries) || errors.Is(err, user.ErrRange) {
			return specs.User{}, errdefs.ErrInternal.WithMessage(err.Error())
		}
		return specs.User{}, fmt.Errorf("resolve user %q: %w", spec, err)
	}
	u := specs.User{UID: uint32(eu.Uid), GID: uint32(eu.Gid), AdditionalGids: []uint32{uint32(eu.Gid)}}
	for _, g := range eu.Sgids {
		u.AdditionalGids = append(u.AdditionalGids, uint32(g))
	}
	return u, nil
}

// additionalGroups resolves --group-add entries (names or gids) against the
// image's /etc/group; an unknown group is a 500, as in ResolveUser.
func additionalGroups(rootfs string, groups []string) ([]uint32, error) {
	group, err := openScoped(rootfs, "/etc/group")
	if err != nil {
		return nil, err
	}
	defer closeFile(group)
	gids, err := user.GetAdditionalGroups(groups, reader(group))
	if err != nil {
		if errors.Is(err, user.ErrNoGroupEntries) || errors.Is(err, user.ErrRange) {
			return nil, errdefs.ErrInternal.WithMessage(err.Error())
		}
		return nil, fmt.Errorf("resolve groups %v: %w", groups, err)
	}
	out := make([]uint32, 0, len(gids))
	for _, g := range gids {
		out = append(out, uint32(g))
	}
	return out, nil
}

// openScoped opens p inside root, resolved by scopedPath, through an
// os.Root of root: a link a running container swaps in after the
// resolution cannot lead the open out of root either. A file that cannot
// be opened is absent (nil), as the user package takes a missing
// /etc/passwd.
func openScoped(root, p string) (*os.File, error) {
	resolved, err := scopedPath(root, p)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil
	}
	defer r.Close()
	f, err := r.Open(rel)
	if err != nil {
		return nil, nil
	}
	return f, nil
}

// reader is f as the user package's reader: nil for an absent file.
func reader(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return f
}

func closeFile(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// scopedPath resolves p inside root as if root were "/": symlinks, even
// absolute ones, and ".." never lead outside root, so an image cannot point
// its /etc/passwd at the host's files.
func scopedPath(root, p string) (string, error) {
	const maxLinks = 255
	resolved := "/"
	rest := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	links := 0
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			// Missing components resolve lexically, like a path to be created.
			resolved = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s in %s: too many symlinks", p, root)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", fmt.Errorf("resolve %s in %s: %w", p, root, err)
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return filepath.Join(root, resolved), nil
}
