package snapshot

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/go-archive"
)

// excluded reports whether p (absolute, slash-separated) is one of exclude
// or lies below one of them.
func excluded(p string, exclude []string) bool {
	for _, e := range exclude {
		if p == e || strings.HasPrefix(p, strings.TrimSuffix(e, "/")+"/") {
			return true
		}
	}
	return false
}

// filterChanges drops the changes under exclude.
func filterChanges(changes []archive.Change, exclude []string) []archive.Change {
	out := changes[:0]
	for _, c := range changes {
		if !excluded(filepath.ToSlash(c.Path), exclude) {
			out = append(out, c)
		}
	}
	return out
}

// relPatterns turns absolute exclude paths into the archive-relative
// patterns of archive.TarOptions.ExcludePatterns.
func relPatterns(exclude []string) []string {
	out := make([]string, 0, len(exclude))
	for _, e := range exclude {
		if r := strings.TrimPrefix(path.Clean("/"+e), "/"); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// deletedFunc tells whether the entry at rel (absolute inside the layer)
// of an upper directory records a deletion.
type deletedFunc func(rel string, fi os.FileInfo) (bool, error)

// upperChanges lists the changes an upper directory (a layer's own files
// over lowers, top first) makes, as docker's layer stores do: an entry
// absent from the lowers is added, one present is modified (a directory
// only when its metadata changed, or when an entry inside it was added or
// deleted), and deleted() tells the whiteouts.
func upperChanges(lowers []string, upper string, exclude []string, deleted deletedFunc) ([]archive.Change, error) {
	var changes []archive.Change
	changedDirs := map[string]bool{}
	err := filepath.Walk(upper, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(upper, p)
		if err != nil {
			return err
		}
		rel = filepath.Join("/", rel)
		if rel == "/" {
			return nil
		}
		if excluded(filepath.ToSlash(rel), exclude) {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		change := archive.Change{Path: rel, Kind: archive.ChangeAdd}
		gone, err := deleted(rel, fi)
		if err != nil {
			return err
		}
		if !gone && fi.IsDir() {
			// A folder that holds only excluded mount points (/etc for
			// /etc/hosts, /sbin for /sbin/docker-init) is the runtime's,
			// not the container's: docker keeps those in its init layer.
			if only, err := onlyMountPoints(p, rel, fi, lowers, exclude); err != nil || only {
				if err == nil {
					err = filepath.SkipDir
				}
				return err
			}
		}
		if gone {
			change.Kind = archive.ChangeDelete
		} else {
			for _, l := range lowers {
				st, err := os.Lstat(filepath.Join(l, rel))
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return err
				}
				if st.IsDir() && fi.IsDir() && st.Mode() == fi.Mode() && sameTime(st, fi) {
					return nil // only a parent of a change: recorded below if needed
				}
				change.Kind = archive.ChangeModify
				break
			}
		}
		if fi.IsDir() {
			changedDirs[rel] = true
		}
		if change.Kind != archive.ChangeModify {
			if parent := filepath.Dir(rel); parent != "/" && !changedDirs[parent] {
				changes = append(changes, archive.Change{Path: parent, Kind: archive.ChangeModify})
				changedDirs[parent] = true
			}
		}
		changes = append(changes, change)
		if gone && fi.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return changes, nil
}

// onlyMountPoints tells whether the upper folder p (rel in the container),
// new or only with a new time, holds nothing but excluded entries, at any
// depth.
func onlyMountPoints(p, rel string, fi os.FileInfo, lowers []string, exclude []string) (bool, error) {
	for _, l := range lowers {
		st, err := os.Lstat(filepath.Join(l, rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		if !st.IsDir() || st.Mode() != fi.Mode() {
			return false, nil // a real change of the folder itself
		}
		break
	}
	entries, err := os.ReadDir(p)
	if err != nil || len(entries) == 0 {
		return false, err
	}
	for _, e := range entries {
		childRel := filepath.Join(rel, e.Name())
		if excluded(filepath.ToSlash(childRel), exclude) {
			continue
		}
		if !e.IsDir() {
			return false, nil
		}
		info, err := e.Info()
		if err != nil {
			return false, err
		}
		if only, err := onlyMountPoints(filepath.Join(p, e.Name()), childRel, info, lowers, exclude); err != nil || !only {
			return false, err
		}
	}
	return true, nil
}

// sameTime compares modification times as docker does: tar keeps whole
// seconds, so a time without nanoseconds matches any in the same second.
func sameTime(a, b os.FileInfo) bool {
	ta, tb := a.ModTime(), b.ModTime()
	return ta.Equal(tb) || (ta.Unix() == tb.Unix() && (ta.Nanosecond() == 0 || tb.Nanosecond() == 0))
}
