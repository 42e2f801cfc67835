package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/client"
)

// checkCommonHeaders verifies the headers every response carries.
func checkCommonHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	want := map[string]string{
		"Api-Version":         "1.56",
		"Server":              "Berth/0.1.0 (linux)",
		"Docker-Experimental": "false",
		"Ostype":              "linux",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", resp.Request.Method, resp.Request.URL.Path, k, got, v)
		}
	}
}

// errorMessage decodes docker's {"message":...} error body.
func errorMessage(t *testing.T, resp *http.Response) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	var e common.ErrorResponse
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("decode error body: %v", err)
	}
	return e.Message
}

func TestPing(t *testing.T) {
	env := newTestEnv(t)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, path := range []string{"/_ping", "/v1.50/_ping"} {
			resp := env.do(t, method, path, "", nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
			}
			checkCommonHeaders(t, resp)
			wantBody := "OK"
			if method == http.MethodHead {
				wantBody = ""
			}
			if string(body) != wantBody {
				t.Errorf("%s %s: body %q, want %q", method, path, body, wantBody)
			}
			for k, v := range map[string]string{
				"Builder-Version": "2",
				"Cache-Control":   "no-cache, no-store, must-revalidate",
				"Pragma":          "no-cache",
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", method, path, k, got, v)
				}
			}
		}
	}
	ping, err := env.client.Ping(testCtx(t), client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	if ping.APIVersion != "1.56" || ping.OSType != "linux" || ping.Experimental || ping.BuilderVersion != "2" {
		t.Errorf("ping = %+v", ping)
	}
}

func TestVersionNegotiation(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	v, err := env.client.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.APIVersion != "1.56" || v.MinAPIVersion != "1.24" || v.Version != "0.1.0" {
		t.Errorf("version = %+v", v)
	}
	if got := env.client.ClientVersion(); got != "1.56" {
		t.Errorf("negotiated %q, want 1.56", got)
	}

	// A server advertising an older API makes the client downgrade.
	old := New(env.fake, Options{Version: "1.45", MinVersion: "1.24"})
	dir, _ := os.MkdirTemp("", "berth-api")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "old.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go old.Serve(l)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		old.Shutdown(sctx)
	}()
	c, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Info.Name != "fakehost" {
		t.Errorf("info = %+v", info.Info)
	}
	if got := c.ClientVersion(); got != "1.45" {
		t.Errorf("negotiated %q against a 1.45 server, want 1.45", got)
	}
}

func TestVersionLimits(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		path, want string
		status     int
	}{
		{"/v1.99/version", "client version 1.99 is too new. Maximum supported API version is 1.56", 400},
		{"/v1.12/version", "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version", 400},
		{"/v1.9/info", "client version 1.9 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version", 400},
		{"/v1.24/version", "", 200},
		{"/v1.56/version", "", 200},
		{"/version", "", 200},
	}
	for _, tt := range tests {
		resp := env.do(t, http.MethodGet, tt.path, "", nil)
		checkCommonHeaders(t, resp)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
			continue
		}
		if tt.want != "" {
			if got := errorMessage(t, resp); got != tt.want {
				t.Errorf("%s: message %q, want %q", tt.path, got, tt.want)
			}
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	env := newTestEnv(t)
	for _, tt := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"GET", "/v1.50/nope"},
		{"POST", "/containers/json"}, // known path, wrong method
		{"PUT", "/_ping"},
		{"GET", "/images/foo/bogus"},
		{"GET", "/images/search"},
		{"POST", "/images/foo/bogus"},
		{"GET", "/vx/version"},
	} {
		resp := env.do(t, tt.method, tt.path, "", nil)
		checkCommonHeaders(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", tt.method, tt.path, resp.StatusCode)
			continue
		}
		if got := errorMessage(t, resp); got != "page not found" {
			t.Errorf("%s %s: message %q", tt.method, tt.path, got)
		}
	}
}

func TestSplitVersion(t *testing.T) {
	tests := []struct {
		in, version, rest string
		ok                bool
	}{
		{"/v1.45/containers/json", "1.45", "/containers/json", true},
		{"/v1/x", "1", "/x", true},
		{"/containers/json", "", "/containers/json", false},
		{"/v1.45", "", "/v1.45", false},
		{"/version", "", "/version", false},
		{"/v/x", "", "/v/x", false},
		{"/v1a/x", "", "/v1a/x", false},
	}
	for _, tt := range tests {
		v, rest, ok := splitVersion(tt.in)
		if v != tt.version || rest != tt.rest || ok != tt.ok {
			t.Errorf("splitVersion(%q) = %q, %q, %v", tt.in, v, rest, ok)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.9", "1.10", -1},
		{"1.56", "1.56", 0},
		{"1.56.0", "1.56", 0},
		{"2", "1.99", 1},
		{"1.24", "1.12", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestInfoViaDockerPaths(t *testing.T) {
	env := newTestEnv(t)
	resp := env.do(t, http.MethodGet, "/v1.50/info", "", nil)
	var info struct{ Name, OSType string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || info.Name != "fakehost" || info.OSType != "linux" {
		t.Errorf("info: %d %+v", resp.StatusCode, info)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
}
