package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// apiStub is a tiny Engine API on a unix socket answering with real JSON
// shapes; routes are "METHOD /path" without the /v1.xx prefix.
type apiStub struct {
	host string

	mu   sync.Mutex
	reqs []string // "METHOD /path?query" of each request, in order
}

// requests returns the requests received so far.
func (s *apiStub) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+`)

func newAPIStub(t testing.TB, routes map[string]http.HandlerFunc) *apiStub {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := &apiStub{host: "unix://" + sock}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := versionPrefix.ReplaceAllString(r.URL.Path, "")
		if path == "/_ping" {
			w.Header().Set("API-Version", "1.50")
			_, _ = io.WriteString(w, "OK")
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Method+" "+path+"?"+r.URL.RawQuery)
		s.mu.Unlock()
		if h, ok := routes[r.Method+" "+path]; ok {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"page not found"}`)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// run executes berth against the stub and returns stdout, stderr and the
// exit code.
func (s *apiStub) run(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(context.Background(), append([]string{"-H", s.host}, args...), io.NopCloser(strings.NewReader(stdin)), &out, &errb)
	return out.String(), errb.String(), code
}

func replyJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const busyboxID = "sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741"

func imageListJSON(t *testing.T) string {
	created := time.Now().Add(-2 * time.Minute).Unix()
	list := []map[string]any{
		{"Id": busyboxID, "Created": created, "Size": 4261000, "SharedSize": -1, "Containers": -1,
			"RepoTags": []string{"busybox:latest", "mybox:1.0"}, "RepoDigests": []string{}, "Labels": nil, "ParentId": ""},
		{"Id": "sha256:aaaabbbbccccddddeeeeffff000011112222333344445555666677778888999", "Created": created, "Size": 1200,
			"SharedSize": -1, "Containers": -1, "RepoTags": []string{}, "RepoDigests": []string{}, "Labels": nil, "ParentId": ""},
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImagesCommand(t *testing.T) {
	var filters string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"GET /images/json": func(w http.ResponseWriter, r *http.Request) {
			filters = r.URL.Query().Get("filters")
			replyJSON(200, imageListJSON(t))(w, r)
		},
	})

	out, errOut, code := stub.run(t, "", "images")
	want := "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n" +
		"busybox      latest    3f57d9401f8d   2 minutes ago   4.26MB\n" +
		"mybox        1.0       3f57d9401f8d   2 minutes ago   4.26MB\n" +
		"<none>       <none>    aaaabbbbcccc   2 minutes ago   1.2kB\n"
	if code != 0 || out != want {
		t.Errorf("images: code %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}

	out, _, code = stub.run(t, "", "image", "ls", "-q", "--filter", "dangling=true", "busy*")
	if code != 0 || out != "3f57d9401f8d\n3f57d9401f8d\naaaabbbbcccc\n" {
		t.Errorf("image ls -q: code %d, stdout %q", code, out)
	}
	var got map[string]map[string]bool
	if err := json.Unmarshal([]byte(filters), &got); err != nil || !got["dangling"]["true"] || !got["reference"]["busy*"] {
		t.Errorf("filters sent: %s", filters)
	}

	out, _, code = stub.run(t, "", "images", "--format", "{{.Repository}}:{{.Tag}}")
	if code != 0 || out != "busybox:latest\nmybox:1.0\n<none>:<none>\n" {
		t.Errorf("images --format: code %d, stdout %q", code, out)
	}

	_, errOut, code = stub.run(t, "", "images", "--format", "{{.Nope}}")
	if code != 1 || !strings.Contains(errOut, `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope`) {
		t.Errorf("images bad template: code %d, stderr %q", code, errOut)
	}

	_, errOut, code = stub.run(t, "", "images", "--filter", "dangling")
	if code != 125 || !strings.Contains(errOut, "bad format of filter (expected name=value)") {
		t.Errorf("images bad filter: code %d, stderr %q", code, errOut)
	}
}

func TestRmiCommand(t *testing.T) {
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"DELETE /images/busybox": replyJSON(200, `[{"Untagged":"busybox:latest"},{"Deleted":"`+busyboxID+`"}]`),
		"DELETE /images/nope":    replyJSON(404, `{"message":"No such image: nope:latest"}`),
		"DELETE /images/used":    replyJSON(409, `{"message":"conflict: unable to remove repository reference \"used\" (must force) - container 0123 is using its referenced image 3f57d9401f8d"}`),
	})

	out, errOut, code := stub.run(t, "", "rmi", "nope", "busybox")
	if code != 1 || out != "Untagged: busybox:latest\nDeleted: "+busyboxID+"\n" ||
		errOut != "Error response from daemon: No such image: nope:latest\n" {
		t.Errorf("rmi: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(strings.Join(stub.requests(), "\n"), "DELETE /images/busybox?") {
		t.Errorf("requests: %v", stub.requests())
	}

	// -f turns a missing image into a warning, not a failure.
	_, errOut, code = stub.run(t, "", "image", "rm", "-f", "nope")
	if code != 0 || errOut != "Error response from daemon: No such image: nope:latest\n" {
		t.Errorf("rmi -f: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = stub.run(t, "", "rmi", "-f", "used")
	if code != 1 || !strings.Contains(errOut, "conflict: unable to remove") {
		t.Errorf("rmi -f used: code %d, stderr %q", code, errOut)
	}
}

func TestTagHistoryCommands(t *testing.T) {
	var tagQuery string
	created := time.Now().Add(-3 * time.Hour).Unix()
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /images/busybox/tag": func(w http.ResponseWriter, r *http.Request) {
			tagQuery = r.URL.RawQuery
			w.WriteHeader(http.StatusCreated)
		},
		"GET /images/busybox/history": replyJSON(200, `[{"Id":"`+busyboxID+`","Created":`+jsonInt(created)+
			`,"CreatedBy":"/bin/sh -c #(nop)  CMD [\"sh\"]","Tags":["busybox:latest"],"Size":0,"Comment":""},`+
			`{"Id":"<missing>","Created":`+jsonInt(created)+`,"CreatedBy":"/bin/sh -c #(nop) ADD file:abc in / ","Tags":null,"Size":4261000,"Comment":"imported"}]`),
	})

	if _, errOut, code := stub.run(t, "", "tag", "busybox", "example.com/me/box:v1"); code != 0 {
		t.Fatalf("tag: code %d, stderr %q", code, errOut)
	}
	if tagQuery != "repo=example.com%2Fme%2Fbox&tag=v1" {
		t.Errorf("tag query %q", tagQuery)
	}

	out, _, code := stub.run(t, "", "history", "busybox")
	want := "IMAGE          CREATED       CREATED BY                             SIZE      COMMENT\n" +
		"3f57d9401f8d   3 hours ago   /bin/sh -c #(nop)  CMD [\"sh\"]          0B        \n" +
		"<missing>      3 hours ago   /bin/sh -c #(nop) ADD file:abc in /    4.26MB    imported\n"
	if code != 0 || out != want {
		t.Errorf("history: code %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
	out, _, _ = stub.run(t, "", "image", "history", "-q", "--no-trunc", "busybox")
	if out != busyboxID+"\n<missing>\n" {
		t.Errorf("history -q --no-trunc: %q", out)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestImportLoadSave(t *testing.T) {
	var importQuery, importBody, loadBody string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /images/create": func(w http.ResponseWriter, r *http.Request) {
			importQuery = r.URL.RawQuery
			b, _ := io.ReadAll(r.Body)
			importBody = string(b)
			replyJSON(200, `{"status":"sha256:1234abcd"}`+"\n")(w, r)
		},
		"POST /images/load": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			loadBody = string(b)
			replyJSON(200, `{"stream":"Loaded image: busybox:latest\n"}`+"\n")(w, r)
		},
		"GET /images/get": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-tar")
			_, _ = io.WriteString(w, "TAR:"+strings.Join(r.URL.Query()["names"], ","))
		},
	})

	out, errOut, code := stub.run(t, "rootfs-tar", "import", "-c", "CMD [\"sh\"]", "-c", "ENV A=b,c", "-m", "hi", "-", "imp:v1")
	if code != 0 || out != "sha256:1234abcd\n" {
		t.Errorf("import: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if importBody != "rootfs-tar" || !strings.Contains(importQuery, "fromSrc=-") || !strings.Contains(importQuery, "repo=imp%3Av1") ||
		!strings.Contains(importQuery, "changes=ENV+A%3Db%2Cc") || !strings.Contains(importQuery, "message=hi") {
		t.Errorf("import request: query %q body %q", importQuery, importBody)
	}

	tarPath := filepath.Join(t.TempDir(), "in.tar")
	if err := os.WriteFile(tarPath, []byte("archive"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = stub.run(t, "", "load", "-i", tarPath)
	if code != 0 || out != "Loaded image: busybox:latest\n" || loadBody != "archive" {
		t.Errorf("load: code %d, stdout %q, stderr %q, body %q", code, out, errOut, loadBody)
	}

	out, _, code = stub.run(t, "", "save", "busybox", "alpine")
	if code != 0 || out != "TAR:busybox,alpine" {
		t.Errorf("save: code %d, stdout %q", code, out)
	}
	dest := filepath.Join(t.TempDir(), "out.tar")
	out, _, code = stub.run(t, "", "image", "save", "-o", dest, "busybox")
	got, err := os.ReadFile(dest)
	if code != 0 || out != "" || err != nil || string(got) != "TAR:busybox" {
		t.Errorf("save -o: code %d, stdout %q, file %q (%v)", code, out, got, err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("save -o mode: %v %v", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
		t.Errorf("save -o left files behind: %v", entries)
	}
}

func TestLoadErrorStream(t *testing.T) {
	var query string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /images/load": func(w http.ResponseWriter, r *http.Request) {
			query = r.URL.RawQuery
			replyJSON(200, `{"errorDetail":{"message":"invalid tar header"},"error":"invalid tar header"}`+"\n")(w, r)
		},
	})
	out, errOut, code := stub.run(t, "not a tar", "load")
	if code != 1 || out != "" || errOut != "invalid tar header\n" {
		t.Errorf("load: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Progress bars are for terminals only.
	if query != "quiet=1" {
		t.Errorf("load query %q", query)
	}
}

func TestTerminalRefusals(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	stub := newAPIStub(t, nil)

	var errb bytes.Buffer
	code := Execute(context.Background(), []string{"-H", stub.host, "save", "busybox"}, io.NopCloser(strings.NewReader("")), tty, &errb)
	if code != 1 || errb.String() != "cowardly refusing to save to a terminal. Use the -o flag or redirect\n" {
		t.Errorf("save to tty: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	code = Execute(context.Background(), []string{"-H", stub.host, "load"}, tty, io.Discard, &errb)
	if code != 1 || errb.String() != "requested load from stdin, but stdin is empty\n" {
		t.Errorf("load from tty: code %d, stderr %q", code, errb.String())
	}
	if len(stub.requests()) != 0 {
		t.Errorf("requests sent: %v", stub.requests())
	}
}
