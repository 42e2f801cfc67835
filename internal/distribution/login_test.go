package distribution

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/containerd/errdefs"
	registrytypes "github.com/moby/moby/api/types/registry"
)

// TestLogin checks credentials against a registry asking for basic
// credentials and one asking for a bearer token, as Docker Hub does.
func TestLogin(t *testing.T) {
	basic := newFakeRegistry(t)
	basic.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == "u" && p == "pw" {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		w.WriteHeader(http.StatusUnauthorized)
		return true
	})
	token := newFakeRegistry(t)
	token.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/token" {
			if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "pw" {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}`)
				return true
			}
			io.WriteString(w, `{"token":"tok"}`)
			return true
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		return false
	})
	svc := newEnv(t).svc
	tests := []struct {
		name, host, password string
		wantErr              string
	}{
		{"basic", basic.host, "pw", ""},
		{"basic wrong password", basic.host, "nope", "login attempt to http://" + basic.host + "/v2/ failed with status: 401 Unauthorized"},
		{"token", token.host, "pw", ""},
		{"token wrong password", token.host, "nope", "unauthorized: incorrect username or password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := svc.Login(context.Background(), registrytypes.AuthConfig{ServerAddress: tc.host, Username: "u", Password: tc.password})
			if tc.wantErr == "" {
				if err != nil || res.Status != "Login Succeeded" {
					t.Fatalf("login: %+v %v", res, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errdefs.IsUnauthorized(err) {
				t.Fatalf("login: %v (unauthorized: %v), want %q", err, errdefs.IsUnauthorized(err), tc.wantErr)
			}
		})
	}
}

func TestLoginHost(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "index.docker.io",
		"https://index.docker.io/v1/": "index.docker.io",
		"docker.io":                   "index.docker.io",
		"registry-1.docker.io":        "index.docker.io",
		"127.0.0.1:5000":              "127.0.0.1:5000",
		"https://myreg:5000/v2/":      "myreg:5000",
	} {
		if got := loginHost(in); got != want {
			t.Errorf("loginHost(%q) = %q, want %q", in, got, want)
		}
	}
}
