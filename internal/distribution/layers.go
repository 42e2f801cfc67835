package distribution

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/snapshot"
)

// layerJob is one layer of a pull.
type layerJob struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
	chain  digest.Digest
	parent digest.Digest
	id     string    // docker's short id: the blob digest's first 12 hex
	exists bool      // unpacked and its blob stored: "Already exists"
	dl     *download // nil when exists
}

// layers downloads the missing layers (at most Downloads at a time, each
// into the content store) and unpacks them in order while they arrive: the
// unpacker follows the blob's ingest file as the download writes it, so a
// layer is stored once and unpacked without waiting for its end. Every blob
// is checked against its digest and every layer against its diff ID before
// the pull can record the image. The caller holds a lease on all of them.
func (p *puller) layers(ctx context.Context, descs []ocispec.Descriptor, diffIDs []digest.Digest) ([]image.Layer, error) {
	store := p.s.store
	chains := image.ChainIDs(diffIDs)
	jobs := make([]*layerJob, len(descs))
	var parent digest.Digest
	for i, d := range descs {
		j := &layerJob{desc: d, diffID: diffIDs[i], chain: chains[i], parent: parent, id: shortDigest(d.Digest)}
		parent = j.chain
		if _, err := store.Snapshot(ctx, j.chain); err == nil && store.HasBlob(ctx, d.Digest) {
			j.exists = true
			p.progress(ProgressEvent{ID: j.id, Status: "Already exists", Detail: true})
		} else {
			p.progress(ProgressEvent{ID: j.id, Status: "Pulling fs layer", Detail: true})
		}
		jobs[i] = j
	}

	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var failed firstError
	defer func() {
		cancel()
		wg.Wait()
		for _, j := range jobs {
			if j.dl != nil {
				j.dl.close()
			}
		}
	}()
	// Downloads start in layer order (the unpacker needs the lowest
	// first), at most Downloads at a time.
	downloads := p.s.opts.Downloads
	var queue []*layerJob
	for _, j := range jobs {
		if j.exists {
			continue
		}
		j.dl = newDownload(j.desc)
		if store.HasBlob(ctx, j.desc.Digest) {
			// Verified by an earlier, interrupted pull.
			f, err := store.OpenBlob(ctx, j.desc.Digest)
			if err != nil {
				return nil, err
			}
			if err := j.dl.complete(f); err != nil {
				return nil, err
			}
			p.progress(ProgressEvent{ID: j.id, Status: "Download complete", Detail: true})
			continue
		}
		if len(queue) >= downloads {
			p.progress(ProgressEvent{ID: j.id, Status: "Waiting", Detail: true})
		}
		queue = append(queue, j)
	}
	sem := make(chan struct{}, downloads)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, j := range queue {
			select {
			case sem <- struct{}{}:
			case <-dctx.Done():
				j.dl.finish(dctx.Err())
				continue
			}
			wg.Add(1)
			go func(j *layerJob) {
				defer wg.Done()
				defer func() { <-sem }()
				err := p.download(dctx, j)
				if err != nil && failed.set(err) {
					cancel() // one failure ends the pull
				}
				j.dl.finish(err)
			}(j)
		}
	}()

	layers := make([]image.Layer, 0, len(jobs))
	for _, j := range jobs {
		if j.exists {
			info, err := store.Snapshot(ctx, j.chain)
			if err != nil {
				return nil, err
			}
			size, err := store.BlobSize(ctx, j.desc.Digest)
			if err != nil {
				return nil, err
			}
			layers = append(layers, image.Layer{Blob: j.desc.Digest, MediaType: j.desc.MediaType, BlobSize: size, Snapshot: info})
			continue
		}
		info, err := p.unpack(dctx, j)
		if err != nil {
			// The first download failure explains the rest.
			if first := failed.get(); first != nil {
				return nil, first
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		p.progress(ProgressEvent{ID: j.id, Status: "Pull complete", Detail: true})
		layers = append(layers, image.Layer{Blob: j.desc.Digest, MediaType: j.desc.MediaType, BlobSize: j.desc.Size, Snapshot: info})
	}
	// The blobs' commits (an fsync each) overlapped the later unpacks.
	for _, j := range jobs {
		if j.dl == nil {
			continue
		}
		if err := j.dl.wait(); err != nil {
			if first := failed.get(); first != nil {
				return nil, first
			}
			return nil, err
		}
	}
	return layers, nil
}

// download fetches one layer blob into the content store.
func (p *puller) download(ctx context.Context, j *layerJob) error {
	w, err := p.s.store.BlobWriter(ctx)
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := j.dl.open(w.Path()); err != nil {
		return err
	}
	body, err := p.blob(ctx, j.desc.Digest)
	if err != nil {
		return err
	}
	defer body.Close()
	var t throttle
	total := j.desc.Size
	p.progress(ProgressEvent{ID: j.id, Status: "Downloading", Detail: true, Current: 0, Total: total})
	buf := make([]byte, 1<<20)
	src := io.LimitReader(body, total+1)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			j.dl.advance(int64(n))
			if t.ok(false) {
				p.progress(ProgressEvent{ID: j.id, Status: "Downloading", Detail: true, Current: w.Size(), Total: total})
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			if w.Size() >= total && w.Digest() != j.desc.Digest {
				return &verifyError{digest: j.desc.Digest}
			}
			return fmt.Errorf("download %s: %w", j.desc.Digest, rerr)
		}
	}
	p.progress(ProgressEvent{ID: j.id, Status: "Verifying Checksum", Detail: true})
	if w.Size() != total || w.Digest() != j.desc.Digest {
		return &verifyError{digest: j.desc.Digest}
	}
	// The data is verified: the unpacker may finish (and say "Pull
	// complete") while the commit makes the blob durable.
	p.progress(ProgressEvent{ID: j.id, Status: "Download complete", Detail: true})
	j.dl.verified()
	_, err = w.Commit(ctx, total, j.desc.Digest)
	return err
}

// unpack applies a layer from its (possibly still growing) blob file.
func (p *puller) unpack(ctx context.Context, j *layerJob) (snapshot.Info, error) {
	r, err := j.dl.reader(ctx)
	if err != nil {
		return snapshot.Info{}, err
	}
	var t throttle
	cr := &progressReader{r: r, f: func(n int64, final bool) {
		if t.ok(final) {
			p.progress(ProgressEvent{ID: j.id, Status: "Extracting", Detail: true, Current: n, Total: j.desc.Size})
		}
	}}
	dec, err := decompress(cr)
	if err != nil {
		return snapshot.Info{}, err
	}
	defer dec.Close()
	info, err := p.s.store.ApplyLayer(ctx, j.parent, dec, j.diffID)
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("failed to register layer: %w", err)
	}
	cr.done()
	return info, nil
}

// decompress sniffs a layer blob's compression (gzip, zstd or none).
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("decompress layer: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(false))
		if err != nil {
			return nil, fmt.Errorf("decompress layer: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// download is a blob being written to an ingest file, which a reader may
// follow while it grows.
type download struct {
	desc    ocispec.Descriptor
	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File // read side of the file
	opened  bool
	written int64
	whole   bool // every byte written and verified
	done    bool
	err     error
}

func newDownload(desc ocispec.Descriptor) *download {
	d := &download{desc: desc}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// open starts following the file at path.
func (d *download) open(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.f, d.opened = f, true
	d.mu.Unlock()
	d.cond.Broadcast()
	return nil
}

// complete follows a blob already committed: complete from the start.
func (d *download) complete(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	d.f, d.opened, d.written, d.whole, d.done = f, true, st.Size(), true, true
	return nil
}

// verified says the data is complete and matches its digest: followers
// read to its end.
func (d *download) verified() {
	d.mu.Lock()
	d.whole = true
	d.mu.Unlock()
	d.cond.Broadcast()
}

func (d *download) advance(n int64) {
	d.mu.Lock()
	d.written += n
	d.mu.Unlock()
	d.cond.Broadcast()
}

// finish ends the download with its outcome.
func (d *download) finish(err error) {
	d.mu.Lock()
	d.done, d.err = true, err
	d.mu.Unlock()
	d.cond.Broadcast()
}

// wait blocks until the download ended and returns its error.
func (d *download) wait() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for !d.done {
		d.cond.Wait()
	}
	return d.err
}

// close closes the file followed.
func (d *download) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// reader returns a reader of the blob that waits for data as it arrives.
func (d *download) reader(ctx context.Context) (io.Reader, error) {
	d.mu.Lock()
	for !d.opened && !d.done {
		d.cond.Wait()
	}
	f, err := d.f, d.err
	d.mu.Unlock()
	if f == nil {
		if err == nil {
			err = errors.New("download ended before it started")
		}
		return nil, err
	}
	return &followReader{d: d, f: f, ctx: ctx}, nil
}

// followReader reads a growing download.
type followReader struct {
	d   *download
	f   *os.File
	ctx context.Context
	off int64
}

func (r *followReader) Read(p []byte) (int, error) {
	d := r.d
	d.mu.Lock()
	for r.off >= d.written && !d.whole && !d.done {
		d.cond.Wait()
	}
	avail, err, whole := d.written-r.off, d.err, d.whole
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if avail <= 0 {
		if whole {
			return 0, io.EOF
		}
		return 0, errors.New("download ended early")
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if int64(len(p)) > avail {
		p = p[:avail]
	}
	n, rerr := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if n > 0 && errors.Is(rerr, io.EOF) {
		rerr = nil
	}
	return n, rerr
}
