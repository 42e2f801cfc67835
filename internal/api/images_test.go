package api

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// makeTar returns a tarball holding the named files.
func makeTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	return buf.Bytes()
}

// readMessages decodes a JSON message stream.
func readMessages(t *testing.T, r io.Reader) []jsonstream.Message {
	t.Helper()
	var out []jsonstream.Message
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("decode stream: %v", err)
		}
		out = append(out, m)
	}
}

const slashRef = "localhost:5000/a/b:v1"

func TestImageImportInspectTagRemove(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client
	rootfs := makeTar(t, map[string]string{"bin/sh": "#!", "etc/passwd": "root"})
	rc, err := c.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, slashRef,
		client.ImageImportOptions{Message: "imported", Changes: []string{"ENV A=1", "CMD [\"sh\"]"}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := readMessages(t, rc)
	rc.Close()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Status, "sha256:") {
		t.Fatalf("import messages %+v", msgs)
	}
	id := msgs[0].Status

	insp, err := c.ImageInspect(ctx, slashRef)
	if err != nil || insp.ID != id || insp.Comment != "imported" {
		t.Fatalf("inspect %s: %v %+v", slashRef, err, insp)
	}
	hist, err := c.ImageHistory(ctx, slashRef)
	if err != nil || len(hist.Items) != 1 || hist.Items[0].CreatedBy != `ENV A=1; CMD ["sh"]` {
		t.Fatalf("history: %v %+v", err, hist.Items)
	}
	if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: slashRef, Target: "localhost:5000/a/c:v2"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", "localhost:5000/a/c:v2")})
	if err != nil || len(list.Items) != 1 || len(list.Items[0].RepoTags) != 2 {
		t.Fatalf("list: %v %+v", err, list.Items)
	}
	// The pre-1.41 `filter` parameter is a reference filter.
	resp := env.do(t, http.MethodGet, "/v1.40/images/json?filter="+url.QueryEscape("localhost:5000/a/b:v1"), "", nil)
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), id) {
		t.Errorf("legacy filter: %d %s", resp.StatusCode, raw)
	}
	resp = env.do(t, http.MethodGet, "/images/json?filters="+url.QueryEscape(`{"reference":["nothing"]}`), "", nil)
	if raw, _ := io.ReadAll(resp.Body); strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("empty image list: %s", raw)
	}

	del, err := c.ImageRemove(ctx, "localhost:5000/a/c:v2", client.ImageRemoveOptions{})
	if err != nil || len(del.Items) != 1 || del.Items[0].Untagged != "localhost:5000/a/c:v2" {
		t.Fatalf("remove tag: %v %+v", err, del.Items)
	}
	del, err = c.ImageRemove(ctx, slashRef, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if err != nil || len(del.Items) != 2 || del.Items[1].Deleted != id {
		t.Fatalf("remove image: %v %+v", err, del.Items)
	}
	if _, err := c.ImageInspect(ctx, slashRef); !errdefs.IsNotFound(err) {
		t.Errorf("inspect removed: %v", err)
	}
	if _, err := c.ImageRemove(ctx, slashRef, client.ImageRemoveOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("remove removed: %v", err)
	}
}

func TestImageCreateErrors(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	// A broken tarball fails before any output: an HTTP error.
	_, err := env.client.ImageImport(ctx, client.ImageImportSource{Source: strings.NewReader("not a tar at all, definitely not 512 bytes"), SourceName: "-"}, "x", client.ImageImportOptions{})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "invalid tar archive") {
		t.Errorf("bad tar: %v", err)
	}
	tests := []struct {
		query  string
		status int
		msg    string
	}{
		{"fromSrc=" + url.QueryEscape("http://example.invalid/rootfs.tar"), 501, "not implemented"},
		{"", 400, "fromImage or fromSrc"},
	}
	for _, tt := range tests {
		resp := env.do(t, http.MethodPost, "/images/create?"+tt.query, "", nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		if msg := errorMessage(t, resp); !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: message %q", tt.query, msg)
		}
	}
}

func TestImageSaveLoad(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	id := env.fake.addImage(slashRef)
	env.fake.addImage("busybox")

	rc, err := env.client.ImageSave(ctx, []string{slashRef, "busybox"})
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := io.ReadAll(rc)
	rc.Close()
	files, _, err := readTar(bytes.NewReader(archive))
	if err != nil || files["manifest.json"] == nil {
		t.Fatalf("saved archive: %v %v", err, files)
	}
	// GET /images/{name}/get, with slashes and a port in the name.
	resp := env.do(t, http.MethodGet, "/images/"+slashRef+"/get", "", nil)
	single, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-tar" || len(single) == 0 {
		t.Errorf("single save: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp := env.do(t, http.MethodGet, "/images/nope/get", "", nil); resp.StatusCode != 404 {
		t.Errorf("save missing: %d", resp.StatusCode)
	}

	if _, err := env.client.ImageRemove(ctx, slashRef, client.ImageRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	lr, err := env.client.ImageLoad(ctx, bytes.NewReader(archive), client.ImageLoadWithQuiet(false))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := jsonmessage.DisplayJSONMessagesStream(lr, &out, 0, false, nil); err != nil {
		t.Fatal(err)
	}
	lr.Close()
	if !strings.Contains(out.String(), "Loaded image: "+slashRef) {
		t.Errorf("load output %q", out.String())
	}
	insp, err := env.client.ImageInspect(ctx, slashRef)
	if err != nil || insp.ID != id {
		t.Errorf("inspect loaded: %v %+v", err, insp)
	}
}

func TestImageLoadErrorInStream(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	noManifest := makeTar(t, map[string]string{"layer.tar": "x"})

	// Progress was sent: the failure is the stream's last message.
	resp := env.do(t, http.MethodPost, "/images/load?quiet=0", "application/x-tar", noManifest)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("load: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(resp.Body)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if last := lines[len(lines)-1]; last != `{"errorDetail":{"message":"no manifest.json in archive"},"error":"no manifest.json in archive"}` {
		t.Errorf("last message %s", last)
	}
	lr, err := env.client.ImageLoad(ctx, bytes.NewReader(noManifest), client.ImageLoadWithQuiet(false))
	if err != nil {
		t.Fatal(err)
	}
	err = jsonmessage.DisplayJSONMessagesStream(lr, io.Discard, 0, false, nil)
	lr.Close()
	if err == nil || err.Error() != "no manifest.json in archive" {
		t.Errorf("client saw %v", err)
	}

	// Quiet, nothing was sent: still a 200 whose stream carries the error,
	// as dockerd answers every failed load.
	for _, path := range []string{"/images/load?quiet=1", "/images/load", "/v1.41/images/load"} {
		resp = env.do(t, http.MethodPost, path, "application/x-tar", noManifest)
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(raw), `"errorDetail":{"message":"no manifest.json in archive"}`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, raw)
		}
	}
	lr, err = env.client.ImageLoad(ctx, bytes.NewReader(noManifest), client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatal(err)
	}
	err = jsonmessage.DisplayJSONMessagesStream(lr, io.Discard, 0, false, nil)
	lr.Close()
	if err == nil || err.Error() != "no manifest.json in archive" {
		t.Errorf("quiet load: client saw %v", err)
	}
}

// A load that stops reading before the end of the body (a tar's end
// marker followed by padding, or a bad archive) must leave the connection
// usable: in full duplex the server used to drain the rest after the
// handler, starting a background read the next request collided with
// ("invalid concurrent Body.Read call").
func TestImageLoadUnreadBodyKeepsConnection(t *testing.T) {
	env := newTestEnv(t)
	body := append(makeTar(t, map[string]string{"layer.tar": "x"}), make([]byte, 64<<10)...)
	conn, err := net.Dial("unix", env.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, "http://docker/v1.41/images/load?quiet=0", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-tar")
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("load %d on the same connection: %v", i, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), "no manifest.json in archive") {
			t.Errorf("load %d: %d %s", i, resp.StatusCode, raw)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://docker/_ping", nil)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("ping on the same connection: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("ping: %d", resp.StatusCode)
	}
}

func TestSplitImageAction(t *testing.T) {
	tests := []struct{ in, name, action string }{
		{"busybox/json", "busybox", "json"},
		{"localhost:5000/a/b:tag/json", "localhost:5000/a/b:tag", "json"},
		{"a@sha256:abc/history", "a@sha256:abc", "history"},
		{"json", "", ""},
		{"/json", "", ""},
	}
	for _, tt := range tests {
		if n, a := splitImageAction(tt.in); n != tt.name || a != tt.action {
			t.Errorf("splitImageAction(%q) = %q, %q", tt.in, n, a)
		}
	}
}

func TestImageSaveFailureBreaksTheStream(t *testing.T) {
	env := newTestEnv(t)
	rc, err := env.client.ImageSave(testCtx(t), []string{"broken-save"})
	if err != nil {
		t.Fatal(err) // the archive had started: the status was 200
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil {
		t.Error("a save that failed midway read as a complete archive")
	}
	if _, err := env.client.Ping(testCtx(t), client.PingOptions{}); err != nil {
		t.Errorf("ping afterwards: %v", err)
	}
}
