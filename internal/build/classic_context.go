package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// A version 1 build's context arrives as the request body: a tar (plain or
// compressed with gzip, bzip2, xz or zstd, as docker accepts) or a bare
// Dockerfile. It is extracted into a directory of its own under the
// builder's root and handed to BuildKit as the "context" and "dockerfile"
// local sources of a session the build opens itself, as buildx does for a
// local folder.
//
// Why not serve the body to BuildKit as an HTTP context, as dockerd's
// reqbodyhandler does? That needs a hook in the worker's HTTP source, and
// the HTTP source stores the whole tar as one blob before an untar step
// copies it again, on every build, so a hot rebuild of a large context
// pays the full copy. A local source instead keeps a shared snapshot per
// project (the session's shared key): fsutil sends only the files whose
// metadata changed, and BuildKit's content hashes follow those changes
// incrementally. Both ways write the context to disk and never hold it in
// memory.

// contextsDir is where contexts are extracted, under the builder's root.
const contextsDir = "classic-contexts"

// receiveContext streams body into a new directory under root and returns
// it. A body that is not a tar is taken as the Dockerfile itself, written
// as dockerfile (default "Dockerfile").
func receiveContext(ctx context.Context, root string, body io.Reader, dockerfile string) (dir string, err error) {
	parent := filepath.Join(root, contextsDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", err
	}
	made, err := os.MkdirTemp(parent, "ctx-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(made)
		}
	}()
	dir = made
	r, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer r.Close()

	stream, closeStream, err := decompress(ctx, body)
	if err != nil {
		return "", err
	}
	defer closeStream()
	br := bufio.NewReaderSize(stream, 64<<10)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the build context: %w", err)
	}
	if !isTar(head) {
		if dockerfile == "" {
			dockerfile = defaultDockerfile
		}
		return dir, writeBareDockerfile(r, dockerfile, br)
	}
	if err := untarInto(ctx, r, br); err != nil {
		return "", err
	}
	return dir, nil
}

// removeStaleContexts removes the contexts a killed engine left behind.
func removeStaleContexts(root string) error {
	return os.RemoveAll(filepath.Join(root, contextsDir))
}

// isTar reports whether head, a stream's first 512 bytes (or all of a
// shorter one), starts a tar: a header whose checksum is valid, or the
// zero block of an empty archive.
func isTar(head []byte) bool {
	if len(head) < 512 {
		return false
	}
	if bytes.Equal(head, make([]byte, 512)) {
		return true
	}
	_, err := tar.NewReader(bytes.NewReader(head)).Next()
	return err == nil || errors.Is(err, io.ErrUnexpectedEOF)
}

// decompress returns body decompressed according to its magic number.
func decompress(ctx context.Context, body io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(body, 64<<10)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b, 0x08}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("read the gzip build context: %v", err))
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), func() {}, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("read the zstd build context: %v", err))
		}
		return zr, zr.Close, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		// As docker, xz goes through the xz binary.
		cmd := exec.CommandContext(ctx, "xz", "-d", "-c", "-q")
		cmd.Stdin = br
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, fmt.Errorf("decompress the xz build context: %w", err)
		}
		return out, func() { out.Close(); _ = cmd.Wait() }, nil
	}
	return br, func() {}, nil
}

// writeBareDockerfile writes a body that is a Dockerfile, not a tar.
func writeBareDockerfile(r *os.Root, name string, body io.Reader) error {
	name, err := contextPath(name)
	if err != nil {
		return err
	}
	if dir := path.Dir(name); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("read the Dockerfile: %w", err)
	}
	return f.Close()
}

// contextPath cleans a slash path relative to the context's root: a path
// that leaves it ("../Dockerfile") is refused as docker does.
func contextPath(p string) (string, error) {
	clean := path.Clean("/" + filepath.ToSlash(p))[1:]
	if clean == "" {
		clean = "."
	}
	if strings.HasPrefix(path.Clean(filepath.ToSlash(p)), "../") || path.Clean(filepath.ToSlash(p)) == ".." {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("forbidden path outside the build context: %s (%s)", p, clean))
	}
	return clean, nil
}

// untarInto extracts a context tar into r. Every operation goes through
// the os.Root, so no entry (a "../x" name, a file written through a
// symlink pointing out) can reach outside the context's directory, which
// matters as berthd runs as root. Devices and fifos are skipped: a build
// context has no use for them. Directory times are set last, once their
// entries stop changing them.
func untarInto(ctx context.Context, r *os.Root, stream io.Reader) error {
	type dirTime struct {
		name  string
		mtime time.Time
	}
	var dirs []dirTime
	tr := tar.NewReader(stream)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("read the build context: %v", err))
		}
		name := path.Clean("/" + hdr.Name)[1:]
		if name == "" {
			continue
		}
		if dir := path.Dir(name); dir != "." {
			if err := r.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
		}
		mode := fs.FileMode(hdr.Mode).Perm() | tarSpecialBits(hdr.Mode)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if fi, err := r.Lstat(name); err == nil && !fi.IsDir() {
				if err := r.Remove(name); err != nil {
					return fmt.Errorf("extract %s: %w", hdr.Name, err)
				}
			}
			if err := r.Mkdir(name, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			dirs = append(dirs, dirTime{name, hdr.ModTime})
		case tar.TypeReg, tar.TypeRegA:
			if err := replace(r, name); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			sum := crc32.New(crcTable)
			_, err = io.Copy(io.MultiWriter(f, sum), tr)
			hdr.ModTime = distinctMtime(hdr.ModTime, sum.Sum32())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
		case tar.TypeSymlink:
			if err := replace(r, name); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			if err := r.Symlink(hdr.Linkname, name); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
		case tar.TypeLink:
			if err := replace(r, name); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			if err := r.Link(path.Clean("/" + hdr.Linkname)[1:], name); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			continue // the link shares its target's metadata
		default:
			continue
		}
		if err := r.Lchown(name, hdr.Uid, hdr.Gid); err != nil && os.Geteuid() == 0 {
			return fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeSymlink {
			continue // no lchmod or lutimes through an os.Root
		}
		if err := r.Chmod(name, mode); err != nil {
			return fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
		if hdr.Typeflag != tar.TypeDir {
			if err := r.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
				return fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := r.Chtimes(dirs[i].name, dirs[i].mtime, dirs[i].mtime); err != nil {
			return fmt.Errorf("extract %s: %w", dirs[i].name, err)
		}
	}
	return nil
}

// crcTable is the CRC-32C table, computed by the CPU where it can.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// distinctMtime gives a file whose tar mtime has no fraction of a second
// (the docker CLI truncates them) a fraction from its content's checksum.
// The context's snapshot is kept between builds and updated by comparing
// size and mtime only, so without it a file rewritten within the same
// second at the same size would keep its old content in the next build.
func distinctMtime(mtime time.Time, sum uint32) time.Time {
	if mtime.Nanosecond() != 0 {
		return mtime
	}
	return mtime.Add(time.Duration(sum % uint32(time.Second)))
}

// replace removes what a later tar entry of the same name replaces.
func replace(r *os.Root, name string) error {
	err := r.RemoveAll(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// tarSpecialBits converts a tar header's setuid, setgid and sticky bits.
func tarSpecialBits(mode int64) fs.FileMode {
	var m fs.FileMode
	if mode&04000 != 0 {
		m |= fs.ModeSetuid
	}
	if mode&02000 != 0 {
		m |= fs.ModeSetgid
	}
	if mode&01000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}
