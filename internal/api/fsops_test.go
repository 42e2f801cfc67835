package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
)

// fakeFiles is the part of the fake backend behind the files endpoints:
// one file, /etc/motd, in every container.
type fakeFiles struct {
	commit    backend.CommitOptions
	extracted string
	extractTo string
}

func (f *fakeBackend) ContainerCommit(ctx context.Context, name string, opts backend.CommitOptions) (string, error) {
	if name != "c1" {
		return "", errdefs.ErrNotFound.WithMessage("No such container: " + name)
	}
	f.mu.Lock()
	f.files.commit = opts
	f.mu.Unlock()
	return "sha256:abc", nil
}

func (f *fakeBackend) ContainerChanges(ctx context.Context, name string) ([]container.FilesystemChange, error) {
	return []container.FilesystemChange{{Path: "/etc", Kind: container.ChangeModify}, {Path: "/etc/motd", Kind: container.ChangeAdd}}, nil
}

func (f *fakeBackend) ContainerStatPath(ctx context.Context, name, path string) (container.PathStat, error) {
	if path != "/etc/motd" {
		return container.PathStat{}, errdefs.ErrNotFound.WithMessage("Could not find the file " + path + " in container " + name)
	}
	return container.PathStat{Name: "motd", Size: 5, Mode: 0o644}, nil
}

func (f *fakeBackend) ContainerArchivePath(ctx context.Context, name, path string, stat func(container.PathStat) error, w io.Writer) error {
	st, err := f.ContainerStatPath(ctx, name, path)
	if err != nil {
		return err
	}
	if err := stat(st); err != nil {
		return err
	}
	_, err = io.WriteString(w, "TAR")
	return err
}

func (f *fakeBackend) ContainerExtractToDir(ctx context.Context, name, path string, copyUIDGID, noOverwriteDirNonDir bool, r io.Reader) error {
	data, err := io.ReadAll(r)
	f.mu.Lock()
	f.files.extracted, f.files.extractTo = string(data), path
	f.mu.Unlock()
	return err
}

func (f *fakeBackend) ContainerExport(ctx context.Context, name string, w io.Writer) error {
	if name != "c1" {
		return errdefs.ErrNotFound.WithMessage("No such container: " + name)
	}
	_, err := io.WriteString(w, "ROOTFS")
	return err
}

func TestFilesEndpoints(t *testing.T) {
	env := newTestEnv(t)

	resp := env.do(t, http.MethodPost, "/v1.47/commit?container=c1&repo=r&tag=t&author=me&changes=CMD+x&changes=ENV+a=b", "application/json", []byte(`{"Env":["X=1"]}`))
	var created container.CommitResponse
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated || created.ID != "sha256:abc" {
		t.Fatalf("commit: %d %+v %v", resp.StatusCode, created, err)
	}
	got := env.fake.files.commit
	if got.Repo != "r" || got.Tag != "t" || got.Author != "me" || !got.Pause || len(got.Changes) != 2 || got.Config == nil || got.Config.Env[0] != "X=1" {
		t.Errorf("commit options: %+v", got)
	}
	resp = env.do(t, http.MethodPost, "/commit?container=c1&pause=0", "", nil)
	if resp.StatusCode != http.StatusCreated || env.fake.files.commit.Pause || env.fake.files.commit.Config != nil {
		t.Errorf("commit without body: %d %+v", resp.StatusCode, env.fake.files.commit)
	}

	resp = env.do(t, http.MethodHead, "/containers/c1/archive?path=/etc/motd", "", nil)
	var st container.PathStat
	raw, _ := base64.StdEncoding.DecodeString(resp.Header.Get(pathStatHeader))
	if err := json.Unmarshal(raw, &st); err != nil || resp.StatusCode != http.StatusOK || st.Name != "motd" || st.Mode != os.FileMode(0o644) {
		t.Errorf("HEAD archive: %d %+v %v", resp.StatusCode, st, err)
	}
	resp = env.do(t, http.MethodHead, "/containers/c1/archive", "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("HEAD archive without path: %d", resp.StatusCode)
	}

	resp = env.do(t, http.MethodGet, "/containers/c1/archive?path=/nope", "", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "Could not find the file /nope in container c1") {
		t.Errorf("GET archive of a missing path: %d %s", resp.StatusCode, body)
	}
	resp = env.do(t, http.MethodGet, "/containers/c1/archive?path=/etc/motd", "", nil)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "TAR" || resp.Header.Get(pathStatHeader) == "" || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Errorf("GET archive: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	resp = env.do(t, http.MethodPut, "/containers/c1/archive?path=/tmp", "application/x-tar", []byte("DATA"))
	if resp.StatusCode != http.StatusOK || env.fake.files.extracted != "DATA" || env.fake.files.extractTo != "/tmp" {
		t.Errorf("PUT archive: %d %+v", resp.StatusCode, env.fake.files)
	}

	resp = env.do(t, http.MethodGet, "/containers/c1/changes", "", nil)
	var changes []container.FilesystemChange
	if err := json.NewDecoder(resp.Body).Decode(&changes); err != nil || len(changes) != 2 || changes[1].Kind != container.ChangeAdd {
		t.Errorf("changes: %+v %v", changes, err)
	}

	resp = env.do(t, http.MethodGet, "/containers/c1/export", "", nil)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ROOTFS" {
		t.Errorf("export: %d %q", resp.StatusCode, body)
	}
	resp = env.do(t, http.MethodGet, "/containers/nope/export", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("export of a missing container: %d", resp.StatusCode)
	}
}
