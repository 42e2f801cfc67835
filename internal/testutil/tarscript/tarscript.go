// Package tarscript builds hostile tar archives from a line-based script and
// checks that unpacking one wrote nothing outside its target. The fuzz
// targets of the layer, load and import paths and the end-to-end test of a
// hostile image share it, so that the fuzzer mutates readable scripts (entry
// types, names with "..", absolute paths, link targets, device numbers,
// huge sizes) instead of tar checksums it rarely gets right.
//
// A script has one entry per line, its fields separated by "|":
//
//	TYPE|NAME|ARG|MODE|SIZE
//
// TYPE is f (file, ARG its content), d (directory), l (symlink to ARG),
// h (hardlink to ARG), c or b (character or block device, ARG "major:minor"),
// p (fifo), x (an extended-attribute record ARG "key=value" on a file) or
// g (a PAX global header). MODE is octal (default 0644, 0755 for
// directories), SIZE overrides the header's size (a header may claim more
// than the archive holds). Missing fields take their defaults. Every "@OUT@"
// in NAME or ARG becomes the Subst.Outside path, so that a script can aim at
// an absolute path the fuzzer cannot know.
package tarscript

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Hostile are layer scripts aimed outside their target, one way each:
// "..", absolute paths, symlinks and hardlinks out (absolute and relative),
// writes through them, whiteouts of outside files, devices, a header
// claiming a terabyte, over-long names and link targets, PAX records.
var Hostile = []string{
	"d|etc\nf|etc/passwd|root:x:0:0::/root:/bin/sh",
	"f|../escape|x",
	"f|../../../outside/pwned|x",
	"f|/@OUT@/pwned|x",
	"l|x|@OUT@\nf|x/pwned|x",
	"l|x|../../../../outside\nf|x/pwned|x",
	"l|x|@OUT@/secret\nf|x|overwritten",
	"h|x|@OUT@/secret",
	"h|x|../../../../outside/secret\nf|x|overwritten",
	"f|.wh.x|\nf|../.wh.outside|",
	"c|null|1:3\nb|sda|8:0\np|fifo",
	"f|big|x||1099511627776",
	"f|" + strings.Repeat("n", 300) + "|x\nl|" + strings.Repeat("l", 200) + "|" + strings.Repeat("../", 300),
	"g|comment=x\nx|f|user.x=y",
	// up to the host's root, then down to the target's absolute path
	"f|" + strings.Repeat("../", 16) + "@OUT@/pwned|x",
	"l|x|" + strings.Repeat("../", 16) + "@OUT@\nf|x/pwned|x",
	"h|x|" + strings.Repeat("../", 16) + "@OUT@/secret\nf|x|overwritten",
}

// Placeholder is replaced by Subst.Outside in names and arguments.
const Placeholder = "@OUT@"

// Subst holds the values of a script's placeholders.
type Subst struct {
	Outside string // an absolute directory the archive must not reach
}

// maxSize bounds the content a script entry may carry (the size a header
// claims is not bounded: that is the point of the SIZE field).
const maxSize = 1 << 16

// Build writes the archive a script describes. Entries the tar writer
// refuses are skipped; a header claiming more than its content ends the
// archive there, truncated, as a hostile one would.
func Build(script []byte, s Subst) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for line := range strings.SplitSeq(string(script), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "|", 5)
		for len(f) < 5 {
			f = append(f, "")
		}
		typ := f[0]
		name := strings.ReplaceAll(f[1], Placeholder, s.Outside)
		arg := strings.ReplaceAll(f[2], Placeholder, s.Outside)
		h := &tar.Header{Name: name, Mode: 0o644, ModTime: time.Unix(1, 0), Format: tar.FormatPAX}
		if m, err := strconv.ParseInt(f[3], 8, 64); err == nil {
			h.Mode = m
		} else if typ == "d" {
			h.Mode = 0o755
		}
		var body []byte
		switch typ {
		case "f":
			h.Typeflag, body = tar.TypeReg, []byte(arg)
		case "x":
			k, v, _ := strings.Cut(arg, "=")
			h.Typeflag, h.PAXRecords = tar.TypeReg, map[string]string{"SCHILY.xattr." + k: v}
		case "d":
			h.Typeflag = tar.TypeDir
		case "l":
			h.Typeflag, h.Linkname = tar.TypeSymlink, arg
		case "h":
			h.Typeflag, h.Linkname = tar.TypeLink, arg
		case "c", "b":
			h.Typeflag = tar.TypeChar
			if typ == "b" {
				h.Typeflag = tar.TypeBlock
			}
			maj, min, _ := strings.Cut(arg, ":")
			h.Devmajor, _ = strconv.ParseInt(maj, 10, 32)
			h.Devminor, _ = strconv.ParseInt(min, 10, 32)
		case "p":
			h.Typeflag = tar.TypeFifo
		case "g":
			k, v, _ := strings.Cut(arg, "=")
			h.Typeflag, h.PAXRecords = tar.TypeXGlobalHeader, map[string]string{k: v}
		default:
			continue
		}
		if len(body) > maxSize {
			body = body[:maxSize]
		}
		h.Size = int64(len(body))
		claimed, err := strconv.ParseInt(f[4], 10, 64)
		truncated := err == nil && claimed >= 0 && claimed != h.Size && h.Typeflag == tar.TypeReg
		if truncated {
			h.Size = claimed
		}
		if err := tw.WriteHeader(h); err != nil {
			continue
		}
		if truncated && claimed > int64(len(body)) {
			_, _ = tw.Write(body)
			return buf.Bytes() // the rest never comes
		}
		if len(body) > 0 {
			_, _ = tw.Write(body[:h.Size])
		}
	}
	_ = tw.Close()
	return buf.Bytes()
}

// Tree records every entry below root: its type, mode, size, link target
// and a hash of its content, keyed by its path relative to root.
func Tree(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		desc := fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			desc += " " + hex.EncodeToString(h.Sum(nil))
		}
		out[rel] = desc
		return nil
	})
	return out, err
}

// Unchanged reports how the tree at root differs from before, a Tree taken
// earlier: entries changed or removed, and entries added unless allowed
// says the new path may appear. An empty result means nothing was touched.
func Unchanged(before map[string]string, root string, allowed func(rel string) bool) ([]string, error) {
	after, err := Tree(root)
	if err != nil {
		return nil, err
	}
	var diffs []string
	for p, was := range before {
		if now, ok := after[p]; !ok {
			diffs = append(diffs, "removed "+p)
		} else if now != was && p != "." && (allowed == nil || !allowed(p)) {
			diffs = append(diffs, fmt.Sprintf("changed %s: %s -> %s", p, was, now))
		}
	}
	for p, now := range after {
		if _, ok := before[p]; !ok && (allowed == nil || !allowed(p)) {
			diffs = append(diffs, fmt.Sprintf("added %s: %s", p, now))
		}
	}
	sort.Strings(diffs)
	return diffs, nil
}

// Canary fills dir with what an escaping archive would touch: a file, a
// folder with a file, and a symlink to the folder.
func Canary(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		return err
	}
	for _, f := range []string{"secret", "d/secret"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("canary\n"), 0o644); err != nil {
			return err
		}
	}
	return os.Symlink("d", filepath.Join(dir, "link"))
}

// HugeSparse reports a sparse entry in a tar whose holes would expand to
// more than 16 MiB. Such an entry is unpacked as docker unpacks it, writing
// the zeros, so a few bytes can fill a disk: not a write outside the target,
// and not something to do to the machine a fuzzer runs on.
func HugeSparse(data []byte) bool {
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		sparse := h.Typeflag == tar.TypeGNUSparse
		for k := range h.PAXRecords {
			sparse = sparse || strings.HasPrefix(k, "GNU.sparse.")
		}
		if sparse && h.Size > 16<<20 {
			return true
		}
	}
}

// DockerArchive wraps one layer tar in a docker-archive (docker save's
// current layout) naming it tag: the config's diff ID is the layer's
// digest, so the archive is valid whatever the layer holds.
func DockerArchive(layer []byte, tag string) []byte {
	sum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	cfg := fmt.Sprintf(`{"architecture":%q,"os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, goarch, diffID)
	csum := sha256.Sum256([]byte(cfg))
	cfgPath := "blobs/sha256/" + hex.EncodeToString(csum[:])
	layerPath := "blobs/sha256/" + hex.EncodeToString(sum[:])
	manifest := fmt.Sprintf(`[{"Config":%q,"RepoTags":[%q],"Layers":[%q]}]`, cfgPath, tag, layerPath)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		body []byte
	}{{"blobs/", nil}, {"blobs/sha256/", nil}, {layerPath, layer}, {cfgPath, []byte(cfg)}, {"manifest.json", []byte(manifest)}} {
		h := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.body)), ModTime: time.Unix(1, 0)}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(f.body)
	}
	_ = tw.Close()
	return buf.Bytes()
}

const goarch = runtime.GOARCH

// Removable registers, on t, the chmod that lets t's cleanup remove dir
// when an archive left folders without write or search permission there
// (root ignores them; an unprivileged run does not). Register it after
// t.TempDir: cleanups run last first.
func Removable(t interface{ Cleanup(func()) }, dir string) {
	t.Cleanup(func() {
		// WalkDir visits a folder before it reads it: opened up in time
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
}
