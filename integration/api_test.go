//go:build linux

package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// apiCall sends one raw request to the daemon and returns status and body.
func apiCall(t *testing.T, d *testutil.Daemon, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://berthd"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := testutil.UnixHTTPClient(d.Sock).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// errorMessage decodes a Docker error body, failing t when it is not one.
func errorMessage(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message == "" {
		t.Errorf("error body %q is not {\"message\": ...}", body)
	}
	return e.Message
}

func TestAPIBadBodies(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	tests := []struct {
		name, method, path, body string
	}{
		{"malformed create", "POST", "/containers/create", `{"Image": "busybox", `},
		{"malformed create versioned", "POST", "/v1.44/containers/create", `{not json}`},
		{"wrong type", "POST", "/containers/create", `{"Image": 42}`},
		{"wrong nested type", "POST", "/containers/create", `{"Image": "busybox", "HostConfig": {"NetworkMode": ["none"]}}`},
		{"cmd not a list", "POST", "/containers/create", `{"Image": "busybox", "Cmd": {"a": 1}}`},
		{"invalid reference", "POST", "/containers/create", `{"Image": "Busybox"}`},
		{"invalid name", "POST", "/containers/create?name=bad/name", `{"Image": "busybox"}`},
		{"bad filters", "GET", "/containers/json?filters=%7Bnot-json", ""},
		{"unknown filter", "GET", "/containers/json?filters=" + `%7B%22nosuch%22%3A%7B%22x%22%3Atrue%7D%7D`, ""},
		{"bad kill signal", "POST", "/containers/x/kill?signal=NOSUCHSIG", ""},
		{"api version too old", "GET", "/v1.12/version", ""},
		{"api version too new", "GET", "/v1.999/version", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := apiCall(t, d, tt.method, tt.path, tt.body)
			if status != http.StatusBadRequest && !(tt.name == "bad kill signal" && status == http.StatusNotFound) {
				t.Errorf("%s %s %s: status %d, want 400; body %s", tt.method, tt.path, tt.body, status, body)
			}
			errorMessage(t, body)
			// the daemon is still up and answers
			if status, _, body := apiCall(t, d, "GET", "/_ping", ""); status != http.StatusOK || body != "OK" {
				t.Fatalf("after a bad request, /_ping answered %d %q", status, body)
			}
		})
	}
}

func TestAPIStatuses(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	name := unique("api")
	status, _, body := apiCall(t, d, "POST", "/containers/create?name="+name, `{"Image": "busybox", "Cmd": ["sleep", "300"]}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	rmOnCleanup(t, d, name)
	var created struct {
		Id       string
		Warnings []string
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || !fullID.MatchString(created.Id) {
		t.Fatalf("create body %s: %v", body, err)
	}
	tests := []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/containers/" + name + "/json", "", 200, ""},
		{"GET", "/v1.24/containers/" + name + "/json", "", 200, ""},
		{"POST", "/containers/create?name=" + name, `{"Image": "busybox", "Cmd": ["true"]}`, 409, "is already in use"},
		{"POST", "/containers/create", `{"Image": "busybox"}`, 400, "no command specified"},
		{"GET", "/containers/nosuch-" + name + "/json", "", 404, "No such container: nosuch-" + name},
		{"GET", "/images/nosuch-" + name + "/json", "", 404, "No such image"},
		{"POST", "/containers/" + name + "/start", "", 204, ""},
		{"POST", "/containers/" + name + "/start", "", 304, ""},
		{"DELETE", "/containers/" + name, "", 409, "container is running"},
		{"DELETE", "/images/busybox", "", 409, "conflict"},
		{"POST", "/containers/" + name + "/stop?t=0", "", 204, ""},
		{"POST", "/containers/" + name + "/stop", "", 304, ""},
		{"POST", "/containers/" + name + "/kill", "", 409, "is not running"},
		{"DELETE", "/containers/" + name, "", 204, ""},
		{"DELETE", "/containers/" + name, "", 404, "No such container"},
	}
	for _, tt := range tests {
		status, _, body := apiCall(t, d, tt.method, tt.path, tt.body)
		if status != tt.status {
			t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.path, status, tt.status, body)
			continue
		}
		if tt.msg != "" && !strings.Contains(errorMessage(t, body), tt.msg) {
			t.Errorf("%s %s: message %q, want it to contain %q", tt.method, tt.path, body, tt.msg)
		}
	}
}

func TestAPIPing(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	for _, method := range []string{"GET", "HEAD"} {
		for _, path := range []string{"/_ping", "/v1.40/_ping"} {
			status, h, body := apiCall(t, d, method, path, "")
			if status != http.StatusOK {
				t.Errorf("%s %s: %d", method, path, status)
			}
			if h.Get("API-Version") == "" {
				t.Errorf("%s %s: no API-Version header", method, path)
			}
			if h.Get("Builder-Version") == "" {
				t.Errorf("%s %s: no Builder-Version header", method, path)
			}
			if method == "GET" && body != "OK" {
				t.Errorf("GET %s body = %q, want OK", path, body)
			}
		}
	}
	status, _, body := apiCall(t, d, "GET", "/version", "")
	var v struct{ ApiVersion, MinAPIVersion, Os, Arch string }
	if err := json.Unmarshal([]byte(body), &v); status != 200 || err != nil || v.ApiVersion == "" || v.MinAPIVersion != "1.24" {
		t.Errorf("GET /version: %d %s", status, body)
	}
}
