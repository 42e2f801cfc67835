//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-project/berth/internal/testutil"
)

// TestDistributionIndexZstdMount pulls an OCI index whose image for this
// host has a zstd layer, with both CLIs: the host's platform is picked
// (another with --platform), the zstd layer unpacks, and pushing the
// pulled image to another repository mounts its blobs there and keeps its
// manifest digest.
func TestDistributionIndexZstdMount(t *testing.T) {
	reg := testutil.StartRegistry(t)
	d := sharedDaemon(t)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	eachCLI(t, d, func(t *testing.T, c0 cli) {
		c := newRegCLI(t, c0)
		path := unique("multi")
		repo := reg.Host + "/" + path
		hostImg := ociImage(t, runtime.GOARCH, compression.ZStd, types.OCILayerZStd)
		otherImg := ociImage(t, other, compression.GZip, types.OCILayer)
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: otherImg, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
			mutate.IndexAddendum{Add: hostImg, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
		)
		ref, err := name.ParseReference(repo+":v1", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
		idxDigest, _ := idx.Digest()
		hostDigest, _ := hostImg.Digest()

		out := c.ok(t, "pull", repo+":v1")
		if !strings.Contains(out, "Pull complete") || !strings.Contains(out, "Digest: "+idxDigest.String()) {
			t.Errorf("pull of an index:\n%s", out)
		}
		if got := c.ok(t, "image", "inspect", "-f", "{{.Architecture}}", repo+":v1"); got != runtime.GOARCH {
			t.Errorf("pulled architecture %q, want %s", got, runtime.GOARCH)
		}
		res := c.run(t, "run", "--rm", repo+":v1", "cat", "/zstd.txt")
		if res.Success(t); res.Out() != "unpacked from zstd" {
			t.Errorf("zstd layer content: %q", res.Out())
		}

		// The pulled image pushes elsewhere with its own manifest digest,
		// its blobs mounted from the repository it came from.
		dst := reg.Host + "/" + unique("mounted")
		c.ok(t, "tag", repo+":v1", dst+":v1")
		out = c.ok(t, "push", dst+":v1")
		if got := pushedDigest(t, out); got != hostDigest.String() {
			t.Errorf("re-push digest %s, want %s\n%s", got, hostDigest, out)
		}
		if !strings.Contains(out, "Mounted from "+path) {
			t.Errorf("re-push should mount from %s:\n%s", path, out)
		}

		out = c.ok(t, "pull", "--platform", "linux/"+other, repo+":v1")
		if !strings.Contains(out, "Status: Downloaded newer image for "+repo+":v1") {
			t.Errorf("pull --platform linux/%s:\n%s", other, out)
		}
		if got := c.ok(t, "image", "inspect", "-f", "{{.Architecture}}", repo+":v1"); got != other {
			t.Errorf("pulled architecture %q, want %s", got, other)
		}
		c.ok(t, "rmi", repo+":v1", dst+":v1")
	})
}

// ociImage is an OCI image for arch: the busybox rootfs, then a layer
// holding /zstd.txt, compressed as asked.
func ociImage(t *testing.T, arch string, comp compression.Compression, mt types.MediaType) v1.Image {
	t.Helper()
	busybox, err := os.ReadFile(testutil.BusyboxRootfsTar(t))
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	tw := tar.NewWriter(&file)
	body := "unpacked from zstd"
	if err := tw.WriteHeader(&tar.Header{Name: "zstd.txt", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, tarball := range [][]byte{busybox, file.Bytes()} {
		l, err := tarballLayer(tarball, comp, mt)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Env = []string{"PATH=/bin"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func tarballLayer(data []byte, comp compression.Compression, mt types.MediaType) (v1.Layer, error) {
	return tarball.LayerFromReader(bytes.NewReader(data), tarball.WithCompression(comp), tarball.WithMediaType(mt))
}
