//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImport(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	rootfs, err := os.ReadFile(d.BusyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		// from stdin
		img := unique("stdin") + ":v1"
		r := c.runStdin(t, string(rootfs), "import", "-", img).Success(t)
		id := r.Out()
		if !strings.HasPrefix(id, "sha256:") || !fullID.MatchString(strings.TrimPrefix(id, "sha256:")) {
			t.Errorf("import - printed %q, want sha256:<id>", id)
		}
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", img) })
		if got := c.ok(t, "run", "--rm", img, "echo", "imported"); got != "imported" {
			t.Errorf("run of the imported image: %q", got)
		}

		// from a file, with --change
		img = unique("change") + ":v1"
		c.ok(t, "import",
			"--change", `CMD ["sh", "-c", "echo $FOO in $(pwd) as $(id -u)"]`,
			"--change", "ENV FOO=bar",
			"--change", "WORKDIR /tmp",
			"--change", "USER nobody",
			"--change", "LABEL com.example.k=v",
			"--change", "EXPOSE 8080",
			d.BusyboxTar(t), img)
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", img) })
		if got := c.ok(t, "run", "--rm", img); got != "bar in /tmp as 65534" {
			t.Errorf("run with the image's CMD, ENV, WORKDIR, USER = %q, want %q", got, "bar in /tmp as 65534")
		}
		if got := c.ok(t, "image", "inspect", "-f", `{{index .Config.Labels "com.example.k"}} {{json .Config.ExposedPorts}} {{.Config.User}}`, img); got != `v {"8080/tcp":{}} nobody` {
			t.Errorf("image config = %q", got)
		}
		// the run's arguments replace CMD, keep the rest
		if got := c.ok(t, "run", "--rm", "-u", "0", img, "pwd"); got != "/tmp" {
			t.Errorf("run with args: pwd = %q", got)
		}

		img = unique("entry") + ":v1"
		c.ok(t, "import", "--change", `ENTRYPOINT ["echo", "entry"]`, "--change", `CMD ["default"]`, d.BusyboxTar(t), img)
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", img) })
		if got := c.ok(t, "run", "--rm", img); got != "entry default" {
			t.Errorf("ENTRYPOINT + CMD = %q", got)
		}
		if got := c.ok(t, "run", "--rm", img, "given"); got != "entry given" {
			t.Errorf("ENTRYPOINT + args = %q", got)
		}

		c.run(t, "import", "--change", "NOSUCH x", d.BusyboxTar(t), unique("bad")).Fails(t, 1)
	})
}

func TestSaveLoad(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		bbID := c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox")
		img := unique("save") + ":v1"
		c.ok(t, "tag", "busybox", img)
		archive := filepath.Join(t.TempDir(), "saved.tar")
		c.ok(t, "save", "-o", archive, img)
		names := tarNames(t, archive)
		if !contains(names, "manifest.json") {
			t.Errorf("saved archive lacks manifest.json: %q", names)
		}
		c.ok(t, "rmi", img)

		r := c.run(t, "load", "-i", archive).Success(t)
		if !strings.Contains(r.Stdout, "Loaded image: "+img) {
			t.Errorf("load printed %q, want Loaded image: %s", r.Stdout, img)
		}
		if got := c.ok(t, "image", "inspect", "-f", "{{.Id}}", img); got != bbID {
			t.Errorf("loaded image id = %q, want %q", got, bbID)
		}
		c.ok(t, "rmi", img)

		// save to stdout, load from stdin
		r = c.run(t, "save", "busybox").Success(t)
		if len(r.Stdout) < 1000 {
			t.Fatalf("save to stdout wrote %d bytes", len(r.Stdout))
		}
		c.runStdin(t, r.Stdout, "load").Success(t)

		// several images in one archive
		a, b := unique("sa")+":v1", unique("sb")+":v1"
		c.ok(t, "tag", "busybox", a)
		c.ok(t, "tag", "busybox", b)
		c.ok(t, "save", "-o", archive, a, b)
		c.ok(t, "rmi", a, b)
		r = c.run(t, "load", "-i", archive).Success(t)
		if !strings.Contains(r.Stdout, "Loaded image: "+a) || !strings.Contains(r.Stdout, "Loaded image: "+b) {
			t.Errorf("load of two images printed %q", r.Stdout)
		}
		c.ok(t, "rmi", a, b)
	})
}

// TestSaveDockerLoadBerth checks that what the docker CLI saves (through
// berthd) loads with berth, and the other way round.
func TestSaveDockerLoadBerth(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	docker, berth := cli{"docker", d}, cli{"berth", d}
	d.Docker(t, "version") // skips without the docker CLI
	img := unique("cross") + ":v1"
	berth.ok(t, "tag", "busybox", img)
	archive := filepath.Join(t.TempDir(), "docker-saved.tar")
	docker.ok(t, "save", "-o", archive, img)
	berth.ok(t, "rmi", img)
	if r := berth.run(t, "load", "-i", archive).Success(t); !strings.Contains(r.Stdout, "Loaded image: "+img) {
		t.Errorf("berth load printed %q", r.Stdout)
	}
	berth.ok(t, "save", "-o", archive, img)
	berth.ok(t, "rmi", img)
	if r := docker.run(t, "load", "-i", archive).Success(t); !strings.Contains(r.Stdout, "Loaded image: "+img) {
		t.Errorf("docker load printed %q", r.Stdout)
	}
	berth.ok(t, "rmi", img)
}

// TestLoadDockerArchives loads archives laid out as real Docker's `docker
// save` writes them: the classic layout (Docker up to 24) and the OCI layout
// with a manifest.json (Docker 25 and later).
func TestLoadDockerArchives(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	layer, err := os.ReadFile(d.BusyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"classic", "oci"} {
		eachCLI(t, d, func(t *testing.T, c cli) {
			repo := unique("docker-" + format)
			archive, configDigest := dockerArchive(t, format, repo+":v1", layer)
			r := c.run(t, "load", "-i", archive).Success(t)
			if !strings.Contains(r.Stdout, "Loaded image: "+repo+":v1") {
				t.Errorf("%s archive: load printed %q", format, r.Stdout)
			}
			t.Cleanup(func() { d.Berth(t, "rmi", "-f", repo+":v1") })
			if got := c.ok(t, "image", "inspect", "-f", "{{.Id}}", repo+":v1"); got != configDigest {
				t.Errorf("%s archive: image id = %q, want the config digest %q", format, got, configDigest)
			}
			if got := c.ok(t, "run", "--rm", repo+":v1"); got != "from-docker-archive" {
				t.Errorf("%s archive: run = %q", format, got)
			}
		})
	}
}

func TestLoadImportCorrupt(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	rootfs, err := os.ReadFile(d.BusyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncatedRootfs := filepath.Join(dir, "truncated-rootfs.tar")
	if err := os.WriteFile(truncatedRootfs, rootfs[:len(rootfs)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.tar")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a tar archive\n"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		img := unique("corrupt") + ":v1"
		c.run(t, "import", truncatedRootfs, img).Fails(t, 1)
		c.run(t, "image", "inspect", img).Fails(t, 1, "No such image")
		c.run(t, "import", garbage, img).Fails(t, 1)
		c.run(t, "image", "inspect", img).Fails(t, 1, "No such image")

		// a saved archive cut in half, and garbage, fail to load
		saved := unique("cut") + ":v1"
		c.ok(t, "tag", "busybox", saved)
		archive := filepath.Join(t.TempDir(), "saved.tar")
		c.ok(t, "save", "-o", archive, saved)
		c.ok(t, "rmi", saved)
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "cut.tar")
		if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		c.run(t, "load", "-i", cut).Fails(t, 1)
		c.run(t, "image", "inspect", saved).Fails(t, 1, "No such image")
		c.run(t, "load", "-i", garbage).Fails(t, 1)

		// the daemon still works
		c.ok(t, "run", "--rm", "busybox", "true")
	})
}

// tarNames lists the entries of a tar file.
func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	return names
}

// dockerArchive writes a `docker save` archive of one image made of layer,
// whose CMD echoes from-docker-archive, and returns its path and image id.
func dockerArchive(t *testing.T, format, ref string, layer []byte) (path, imageID string) {
	t.Helper()
	diffID := sha256hex(layer)
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      "2024-01-02T03:04:05Z",
		"config": map[string]any{
			"Cmd": []string{"echo", "from-docker-archive"},
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + diffID}},
		"history": []map[string]any{{"created": "2024-01-02T03:04:05Z", "created_by": "integration test"}},
	})
	configHex := sha256hex(config)
	repo, tag, _ := strings.Cut(ref, ":")

	files := map[string][]byte{}
	var order []string
	add := func(name string, data []byte) {
		files[name] = data
		order = append(order, name)
	}
	switch format {
	case "classic":
		layerDir := sha256hex([]byte("layer-v1-id" + diffID))
		add(layerDir+"/VERSION", []byte("1.0"))
		add(layerDir+"/json", []byte(`{"id":"`+layerDir+`","created":"2024-01-02T03:04:05Z","os":"linux"}`))
		add(layerDir+"/layer.tar", layer)
		add(configHex+".json", config)
		manifest, _ := json.Marshal([]map[string]any{{"Config": configHex + ".json", "RepoTags": []string{ref}, "Layers": []string{layerDir + "/layer.tar"}}})
		add("manifest.json", manifest)
		repos, _ := json.Marshal(map[string]map[string]string{repo: {tag: layerDir}})
		add("repositories", repos)
	case "oci":
		ociManifest, _ := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + configHex, "size": len(config)},
			"layers":        []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + diffID, "size": len(layer)}},
		})
		manifestHex := sha256hex(ociManifest)
		index, _ := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.index.v1+json",
			"manifests": []map[string]any{{
				"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + manifestHex, "size": len(ociManifest),
				"annotations": map[string]string{"io.containerd.image.name": "docker.io/library/" + ref, "org.opencontainers.image.ref.name": tag},
			}},
		})
		add("blobs/sha256/"+diffID, layer)
		add("blobs/sha256/"+configHex, config)
		add("blobs/sha256/"+manifestHex, ociManifest)
		add("index.json", index)
		manifest, _ := json.Marshal([]map[string]any{{"Config": "blobs/sha256/" + configHex, "RepoTags": []string{ref}, "Layers": []string{"blobs/sha256/" + diffID}}})
		add("manifest.json", manifest)
		add("oci-layout", []byte(`{"imageLayoutVersion": "1.0.0"}`))
		repos, _ := json.Marshal(map[string]map[string]string{repo: {tag: diffID}})
		add("repositories", repos)
	default:
		t.Fatalf("unknown archive format %q", format)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, name := range order {
		if dir := filepath.Dir(name); dir != "." && !dirs[dir] {
			for _, p := range []string{"blobs", "blobs/sha256", dir} {
				if strings.HasPrefix(dir, p) && !dirs[p] {
					dirs[p] = true
					_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755})
				}
			}
		}
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(files[name]))})
		_, _ = tw.Write(files[name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), format+".tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, "sha256:" + configHex
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
