// Package ctrfs reads and writes a container's files for docker cp
// (GET/HEAD/PUT /containers/{id}/archive) with every path resolved inside
// the container: symbolic links, absolute or relative, are followed as the
// container's processes would follow them and never lead to the host's
// files. Each access goes through an os.Root of the folder that holds the
// path (the container's root or a mounted volume), so even a link swapped
// in by a running container cannot reach outside it.
package ctrfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/sys/user"
)

// maxLinks bounds the symbolic links one resolution follows (as Linux's 40).
const maxLinks = 40

// ErrNotDirectory is docker's error for an extraction point that is not a
// directory.
var ErrNotDirectory = errors.New("extraction point is not a directory")

// FS is a container's filesystem as its processes see it.
type FS struct {
	// Root is the container's root folder on the host: /proc/<pid>/root of
	// a running container (which shows its volumes, binds and tmpfs too),
	// its mounted root filesystem otherwise.
	Root string
	// ReadOnlyRoot refuses writes outside the mounts (--read-only).
	ReadOnlyRoot bool
	// Mounts are the host folders mounted in the container that Root does
	// not show (a stopped container's volumes and binds).
	Mounts []Mount
	// Hide are folders whose content copies leave out: the kernel's
	// filesystems (/proc, /sys, /dev) a running container's root shows,
	// which docker's view of a container never holds.
	Hide []string
	// Pack tars srcPath, a path under root, with root as the root
	// directory, so that no link met while packing, even one a running
	// container swaps in, leads out of root; nil packs on a chrooted
	// thread (which needs privileges; tests may pack without chroot).
	Pack func(srcPath string, opts *archive.TarOptions, root string) (io.ReadCloser, error)
	// Unpack extracts the tar r into root with root as the root
	// directory, so that no link met while unpacking, even a folder a
	// running container swaps for a link meanwhile (CVE-2018-15664),
	// leads out of root; nil unpacks on a chrooted thread (tests may
	// unpack without chroot).
	Unpack func(r io.Reader, root string, opts *archive.TarOptions) error
	// IDMap is the daemon's --userns-remap mapping: archives hold
	// container IDs, files extracted get their host IDs (empty: none).
	IDMap user.IdentityMapping
}

func (f *FS) pack(srcPath string, opts *archive.TarOptions, root string) (io.ReadCloser, error) {
	if f.Pack != nil {
		return f.Pack(srcPath, opts, root)
	}
	return chrootPack(srcPath, opts, root)
}

func (f *FS) unpack(r io.Reader, root string, opts *archive.TarOptions) error {
	if f.Unpack != nil {
		return f.Unpack(r, root, opts)
	}
	return chrootUnpack(r, root, opts)
}

// Mount is a host folder mounted at Destination in the container.
type Mount struct {
	Destination string // absolute, in the container
	// Source is the host folder; "" for a mount Root shows already, kept
	// only to refuse writes under a read-only one.
	Source   string
	ReadOnly bool
}

// place is where a container path lives: a folder of the host (the root or
// a mount's source) and the path inside it, free of symbolic links.
type place struct {
	base     string // host folder
	rel      string // slash-separated, relative to base ("." for base)
	readOnly bool
	ctrPath  string // the resolved absolute path in the container
	inMount  bool   // in one of the mounts, not the root filesystem
}

func (p place) hostPath() string { return filepath.Join(p.base, filepath.FromSlash(p.rel)) }

// locate maps a resolved container path to its place: the mount with the
// longest destination that holds it, else the root.
func (f *FS) locate(ctrPath string) place {
	best := place{base: f.Root, rel: strings.TrimPrefix(ctrPath, "/"), readOnly: f.ReadOnlyRoot, ctrPath: ctrPath}
	bestLen := 0
	for _, m := range f.Mounts {
		dst := path.Clean("/" + m.Destination)
		if ctrPath != dst && !strings.HasPrefix(ctrPath, strings.TrimSuffix(dst, "/")+"/") {
			continue
		}
		if len(dst) <= bestLen {
			continue
		}
		bestLen = len(dst)
		best = place{base: m.Source, rel: strings.TrimPrefix(strings.TrimPrefix(ctrPath, dst), "/"), readOnly: m.ReadOnly, ctrPath: ctrPath, inMount: true}
		if m.Source == "" {
			best.base, best.rel = f.Root, strings.TrimPrefix(ctrPath, "/")
		}
	}
	if best.rel == "" {
		best.rel = "."
	}
	if best.inMount && best.rel == "." && best.base != f.Root {
		// a bind-mounted file (/etc/hosts...): its folder holds it
		if fi, err := os.Stat(best.base); err == nil && !fi.IsDir() {
			best.base, best.rel = filepath.Dir(best.base), filepath.Base(best.base)
		}
	}
	return best
}

// lstat stats p's entry without following it, through an os.Root of its
// folder.
func lstat(p place) (fs.FileInfo, error) {
	r, err := os.OpenRoot(p.base)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Lstat(p.rel)
}

func readlink(p place) (string, error) {
	r, err := os.OpenRoot(p.base)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return r.Readlink(p.rel)
}

// resolve follows the symbolic links of the container path p inside the
// container, the last element's too when followLast. A missing element
// ends the resolution: the rest is kept as given.
func (f *FS) resolve(p string, followLast bool) (place, error) {
	todo := splitPath(p)
	cur := "/"
	links := 0
	for len(todo) > 0 {
		elem := todo[0]
		todo = todo[1:]
		if elem == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, elem)
		if len(todo) == 0 && !followLast {
			cur = next
			break
		}
		fi, err := lstat(f.locate(next))
		if errors.Is(err, fs.ErrNotExist) {
			cur = path.Join(append([]string{next}, todo...)...)
			todo = nil
			break
		}
		if err != nil {
			return place{}, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return place{}, fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		target, err := readlink(f.locate(next))
		if err != nil {
			return place{}, err
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		todo = append(splitPath(target), todo...)
	}
	return f.locate(cur), nil
}

func splitPath(p string) []string {
	var out []string
	for _, e := range strings.Split(p, "/") {
		if e != "" && e != "." {
			out = append(out, e)
		}
	}
	return out
}

// notFound is docker's message for a missing path.
func notFound(p, container string) error {
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("Could not find the file %s in container %s", p, container))
}

// Stat describes the entry at p (a link itself, not its target) as HEAD
// /containers/{id}/archive does; LinkTarget is where a link leads inside the
// container. name names the container in errors.
func (f *FS) Stat(p, name string) (containertypes.PathStat, error) {
	abs := absPath(p)
	pl, err := f.resolve(abs, followsLast(abs))
	if err != nil {
		return containertypes.PathStat{}, err
	}
	fi, err := lstat(pl)
	if errors.Is(err, fs.ErrNotExist) {
		return containertypes.PathStat{}, notFound(p, name)
	}
	if err != nil {
		return containertypes.PathStat{}, err
	}
	st := containertypes.PathStat{Name: path.Base(abs), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := f.resolve(abs, true)
		if err != nil {
			return containertypes.PathStat{}, err
		}
		st.LinkTarget = target.ctrPath
	}
	return st, nil
}

// absPath is p made absolute in the container, keeping a trailing "/" or
// "/." that tells the copy to take a directory's content.
func absPath(p string) string {
	return archive.PreserveTrailingDotOrSeparator(path.Join("/", p), p)
}

// Archive returns a tar of the entry at p (a link itself, not its target)
// named after p's last element, and its stat, as GET
// /containers/{id}/archive does.
func (f *FS) Archive(p, name string) (io.ReadCloser, containertypes.PathStat, error) {
	st, err := f.Stat(p, name)
	if err != nil {
		return nil, st, err
	}
	abs := absPath(p)
	pl, err := f.resolve(abs, followsLast(abs))
	if err != nil {
		return nil, st, err
	}
	// As dockerd, the entries are named after the path as asked
	// ("dir/." keeps "."), whatever it resolved to.
	rebase := path.Base(abs)
	if rebase == "/" {
		rebase = "."
	}
	dir, base := archive.SplitPathDirEntry(pl.hostPath())
	if strings.HasSuffix(abs, "/.") || pl.rel == "." {
		// a folder's content, or the root of its place (the container's
		// root, a volume), which must not be left for its parent
		dir, base = pl.hostPath(), "."
	}
	opts := archive.TarResourceRebaseOpts(base, rebase)
	opts.ExcludePatterns = f.hidden(dir, base)
	opts.IDMap = f.IDMap
	rc, err := f.pack(dir, opts, pl.base)
	if err != nil {
		return nil, st, err
	}
	return rc, st, nil
}

// followsLast reports whether a path's last link is followed: "dir/" and
// "dir/." name the folder a link leads to, not the link.
func followsLast(abs string) bool {
	return strings.HasSuffix(abs, "/") || strings.HasSuffix(abs, "/.")
}

// hidden is the exclude patterns of the Hide folders' content below dir,
// relative to dir as the archive names its entries (with "./" when it
// takes dir's content, base ".").
func (f *FS) hidden(dir, base string) []string {
	var out []string
	for _, h := range f.Hide {
		rel, err := filepath.Rel(dir, filepath.Join(f.Root, h))
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		if base == "." {
			// the entries are "./<rel>/..."; patternmatcher cleans a
			// leading "./" off a pattern, not off a name: "[.]" keeps it
			rel = "[.]/" + rel
		}
		out = append(out, filepath.ToSlash(rel)+"/*")
	}
	return out
}

// ExtractOptions are PUT /containers/{id}/archive's.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory and the reverse.
	NoOverwriteDirNonDir bool
	// Chown, when set, owns every extracted entry by UID and GID; else
	// the archive's owners are kept.
	Chown    bool
	UID, GID int
}

// Extract unpacks the tar r into the directory at p (links followed,
// the last one too). Every link met while unpacking, absolute or relative,
// there before or swapped in meanwhile, resolves inside the folder that
// holds p (the container's root, or a volume), never on the host.
func (f *FS) Extract(p, name string, r io.Reader, opts ExtractOptions) error {
	pl, err := f.resolve(absPath(p), true)
	if err != nil {
		return err
	}
	fi, err := lstat(pl)
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(p, name)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return ErrNotDirectory
	}
	if pl.readOnly {
		if !pl.inMount {
			return errdefs.ErrInvalidArgument.WithMessage("container rootfs is marked read-only")
		}
		return errdefs.ErrInvalidArgument.WithMessage("mounted volume is marked read-only")
	}
	tr := io.Reader(r)
	if pl.rel != "." {
		// Unpack at the folder's root with names under p, so that the
		// archive's absolute links resolve in the container, not below p.
		rc := archive.RebaseArchiveEntries(r, "", pl.rel+"/")
		defer rc.Close()
		tr = rc
	}
	chown, err := f.chownOpts(opts)
	if err != nil {
		return err
	}
	return f.unpack(tr, pl.base, &archive.TarOptions{
		NoOverwriteDirNonDir: opts.NoOverwriteDirNonDir,
		ChownOpts:            chown,
		IDMap:                f.IDMap,
		NoLchown:             os.Geteuid() != 0,
	})
}

// chownOpts are the host IDs of the owner extracted entries get, if any.
func (f *FS) chownOpts(o ExtractOptions) (*archive.ChownOpts, error) {
	if !o.Chown {
		return nil, nil
	}
	uid, gid, err := f.IDMap.ToHost(o.UID, o.GID)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return &archive.ChownOpts{UID: uid, GID: gid}, nil
}

// Export tars the whole root folder, as docker export does.
func (f *FS) Export() (io.ReadCloser, error) {
	return f.pack(f.Root, &archive.TarOptions{Compression: compression.None, IDMap: f.IDMap}, f.Root)
}
