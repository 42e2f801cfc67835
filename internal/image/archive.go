package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/berth-project/berth/internal/content"
	"github.com/containerd/errdefs"
	"github.com/moby/go-archive/compression"
	"github.com/opencontainers/go-digest"
)

// archiveFiles holds the regular files of an image archive, each streamed
// into the content store's ingest area (hashed on the way) and not yet
// committed, plus the archive's links.
type archiveFiles struct {
	files map[string]*content.Writer
	links map[string]string
}

// readArchive streams a (possibly compressed) tar into ingest files.
func readArchive(ctx context.Context, cs *content.Store, r io.Reader) (_ *archiveFiles, retErr error) {
	a := &archiveFiles{files: map[string]*content.Writer{}, links: map[string]string{}}
	defer func() {
		if retErr != nil {
			a.abort()
		}
	}()
	dec, err := compression.DecompressStream(r)
	if err != nil {
		return nil, invalidArchive(err)
	}
	defer dec.Close()
	tr := tar.NewReader(dec)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalidArchive(err)
		}
		name := cleanName(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			w, err := cs.Writer(ctx)
			if err != nil {
				return nil, err
			}
			if old := a.files[name]; old != nil {
				old.Abort()
			}
			a.files[name] = w
			if _, err := io.Copy(w, tr); err != nil {
				return nil, invalidArchive(err)
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			a.links[name] = cleanName(target)
		case tar.TypeLink:
			a.links[name] = cleanName(hdr.Linkname)
		}
	}
	return a, nil
}

func cleanName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

func invalidArchive(err error) error {
	return errdefs.ErrInvalidArgument.WithMessage("invalid archive: " + err.Error())
}

// get returns the ingested file called name, following links.
func (a *archiveFiles) get(name string) (*content.Writer, error) {
	name = cleanName(name)
	for i := 0; i < 16; i++ {
		if w := a.files[name]; w != nil {
			return w, nil
		}
		target, ok := a.links[name]
		if !ok {
			break
		}
		name = target
	}
	return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid archive: %s not found", name))
}

func (a *archiveFiles) has(name string) bool {
	_, err := a.get(name)
	return err == nil
}

// read returns the whole content of a small file.
func (a *archiveFiles) read(name string) ([]byte, error) {
	w, err := a.get(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(w.Path())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

// blobDigest is the digest a "blobs/<alg>/<hex>" path names, or "".
func blobDigest(name string) digest.Digest {
	parts := strings.Split(cleanName(name), "/")
	if len(parts) != 3 || parts[0] != "blobs" {
		return ""
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[2])
	if d.Validate() != nil {
		return ""
	}
	return d
}

// abort discards every uncommitted file.
func (a *archiveFiles) abort() {
	for _, w := range a.files {
		w.Abort()
	}
}
