package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/registry"
)

// decodeAuthHeader reads the X-Registry-Auth a request carried.
func decodeAuthHeader(t *testing.T, r *http.Request) registry.AuthConfig {
	t.Helper()
	var cfg registry.AuthConfig
	h := r.Header.Get(registry.AuthHeader)
	if h == "" {
		return cfg
	}
	data, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		t.Errorf("X-Registry-Auth %q: %v", h, err)
	}
	_ = json.Unmarshal(data, &cfg)
	return cfg
}

func TestLoginPullPushLogout(t *testing.T) {
	cfgDir := t.TempDir()
	t.Setenv("BERTH_CONFIG", cfgDir)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	var pullAuth, pushAuth registry.AuthConfig
	var pullQuery, pushQuery string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /auth": func(w http.ResponseWriter, r *http.Request) {
			var cfg registry.AuthConfig
			_ = json.NewDecoder(r.Body).Decode(&cfg)
			if cfg.Username != "u" || cfg.Password != "pw" || cfg.ServerAddress != "reg:5000" {
				replyJSON(401, `{"message":"login attempt to https://reg:5000/v2/ failed with status: 401 Unauthorized"}`)(w, r)
				return
			}
			replyJSON(200, `{"Status":"Login Succeeded"}`)(w, r)
		},
		"POST /images/create": func(w http.ResponseWriter, r *http.Request) {
			pullAuth, pullQuery = decodeAuthHeader(t, r), r.URL.RawQuery
			replyJSON(200, `{"status":"Pulling from a","id":"v1"}`+"\n"+`{"status":"Pulling fs layer","progressDetail":{},"id":"0123456789ab"}`+"\n"+`{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"0123456789ab"}`+"\n"+`{"status":"Digest: sha256:aa"}`+"\n")(w, r)
		},
		"POST /images/reg:5000/a/push": func(w http.ResponseWriter, r *http.Request) {
			pushAuth, pushQuery = decodeAuthHeader(t, r), r.URL.RawQuery
			replyJSON(200, `{"status":"The push refers to repository [reg:5000/a]"}`+"\n"+`{"status":"v1: digest: sha256:bb size: 528"}`+"\n"+`{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:bb","Size":528}}`+"\n")(w, r)
		},
	})

	_, errOut, code := stub.run(t, "", "login", "-u", "u", "-p", "bad", "reg:5000")
	if code != 1 || !strings.Contains(errOut, "Error response from daemon: login attempt to https://reg:5000/v2/ failed with status: 401 Unauthorized") {
		t.Errorf("bad login: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(cfgDir, "config.json")); err == nil {
		t.Errorf("a failed login wrote the config")
	}
	out, errOut, code := stub.run(t, "pw\n", "login", "-u", "u", "--password-stdin", "reg:5000")
	if code != 0 || out != "Login Succeeded\n" || !strings.Contains(errOut, "Your credentials are stored unencrypted in '"+filepath.Join(cfgDir, "config.json")+"'") {
		t.Errorf("login: %d %q %q", code, out, errOut)
	}
	data, _ := os.ReadFile(filepath.Join(cfgDir, "config.json"))
	if !strings.Contains(string(data), `"reg:5000"`) || !strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("u:pw"))) {
		t.Errorf("config.json:\n%s", data)
	}

	out, _, code = stub.run(t, "", "pull", "reg:5000/a:v1")
	if code != 0 || out != "v1: Pulling from a\n0123456789ab: Pulling fs layer\nDigest: sha256:aa\nreg:5000/a:v1\n" {
		t.Errorf("pull: %d %q", code, out)
	}
	if pullAuth.Username != "u" || pullAuth.Password != "pw" || !strings.Contains(pullQuery, "fromImage=reg%3A5000%2Fa") || !strings.Contains(pullQuery, "tag=v1") {
		t.Errorf("pull sent %+v ?%s", pullAuth, pullQuery)
	}
	out, _, code = stub.run(t, "", "pull", "-q", "reg:5000/a:v1")
	if code != 0 || out != "reg:5000/a:v1\n" {
		t.Errorf("pull -q: %d %q", code, out)
	}
	out, _, code = stub.run(t, "", "push", "reg:5000/a:v1")
	if code != 0 || out != "The push refers to repository [reg:5000/a]\nv1: digest: sha256:bb size: 528\n" {
		t.Errorf("push: %d %q", code, out)
	}
	if pushAuth.Username != "u" || pushQuery != "tag=v1" {
		t.Errorf("push sent %+v ?%s", pushAuth, pushQuery)
	}

	out, _, code = stub.run(t, "", "logout", "reg:5000")
	if code != 0 || out != "Removing login credentials for reg:5000\n" {
		t.Errorf("logout: %d %q", code, out)
	}
	out, _, _ = stub.run(t, "", "logout", "reg:5000")
	if out != "Not logged in to reg:5000\n" {
		t.Errorf("second logout: %q", out)
	}
	if _, errOut, code := stub.run(t, "", "login", "-u", "u", "reg:5000"); code != 1 || !strings.Contains(errOut, "Cannot perform an interactive login from a non TTY device") {
		t.Errorf("login without password: %d %q", code, errOut)
	}
	if _, errOut, code := stub.run(t, "", "login", "--password-stdin", "reg:5000"); code != 1 || !strings.Contains(errOut, "Must provide --username with --password-stdin") {
		t.Errorf("password-stdin without user: %d %q", code, errOut)
	}
}

// A berth logout holds although docker's own config.json still has the
// credentials berth falls back to; docker's file is left alone, and a new
// berth login clears the logout.
func TestLogoutHoldsOverDockerConfig(t *testing.T) {
	berthDir, dockerDir := t.TempDir(), t.TempDir()
	t.Setenv("BERTH_CONFIG", berthDir)
	t.Setenv("DOCKER_CONFIG", dockerDir)
	dockerFile := `{"auths":{"reg:5000":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("d:dpw")) + `"}}}`
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(dockerFile), 0o600); err != nil {
		t.Fatal(err)
	}
	var pullAuth registry.AuthConfig
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /auth": replyJSON(200, `{"Status":"Login Succeeded"}`),
		"POST /images/create": func(w http.ResponseWriter, r *http.Request) {
			pullAuth = decodeAuthHeader(t, r)
			replyJSON(200, `{"status":"Digest: sha256:aa"}`+"\n")(w, r)
		},
	})
	pull := func() string {
		t.Helper()
		pullAuth = registry.AuthConfig{}
		if _, errOut, code := stub.run(t, "", "pull", "-q", "reg:5000/a:v1"); code != 0 {
			t.Fatalf("pull: %d %s", code, errOut)
		}
		return pullAuth.Username
	}
	if u := pull(); u != "d" {
		t.Fatalf("before logout berth used %q, want docker's credentials", u)
	}
	out, _, code := stub.run(t, "", "logout", "reg:5000")
	if code != 0 || out != "Removing login credentials for reg:5000\n" {
		t.Errorf("logout: %d %q", code, out)
	}
	if u := pull(); u != "" {
		t.Errorf("after logout berth still sent credentials of %q", u)
	}
	if out, _, _ := stub.run(t, "", "logout", "reg:5000"); out != "Not logged in to reg:5000\n" {
		t.Errorf("second logout: %q", out)
	}
	if data, _ := os.ReadFile(filepath.Join(dockerDir, "config.json")); string(data) != dockerFile {
		t.Errorf("berth logout changed docker's config.json:\n%s", data)
	}
	if _, errOut, code := stub.run(t, "pw\n", "login", "-u", "u", "--password-stdin", "reg:5000"); code != 0 {
		t.Fatalf("login: %d %s", code, errOut)
	}
	if u := pull(); u != "u" {
		t.Errorf("after a new login berth sent %q, want u", u)
	}
}

func TestPullDefaultTag(t *testing.T) {
	t.Setenv("BERTH_CONFIG", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	var query string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /images/create": func(w http.ResponseWriter, r *http.Request) {
			query = r.URL.RawQuery
			replyJSON(200, `{"status":"Digest: sha256:aa"}`+"\n")(w, r)
		},
	})
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"pull", "reg:5000/a"}, "Using default tag: latest\nDigest: sha256:aa\nreg:5000/a:latest\n"},
		{[]string{"pull", "-q", "reg:5000/a"}, "reg:5000/a:latest\n"},
		{[]string{"pull", "reg:5000/a:v1"}, "Digest: sha256:aa\nreg:5000/a:v1\n"},
	} {
		out, errOut, code := stub.run(t, "", tc.args...)
		if code != 0 || out != tc.out {
			t.Errorf("%v: %d %q %q, want %q", tc.args, code, out, errOut, tc.out)
		}
	}
	if !strings.Contains(query, "tag=v1") {
		t.Errorf("last pull query %q", query)
	}
}
