package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

// buildFake is the fake engine with a builder that records what it was
// asked and answers with build.
type buildFake struct {
	*fakeBackend
	mu       sync.Mutex
	got      BuildOptions
	body     string
	canceled []string
	build    func(out io.Writer) error
}

func (b *buildFake) Build(ctx context.Context, opts BuildOptions, body io.Reader, out io.Writer) error {
	dt, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.got, b.body = opts, string(dt)
	b.mu.Unlock()
	return b.build(out)
}

func (b *buildFake) BuildCancel(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.canceled = append(b.canceled, id)
	return nil
}

// exitErr is a failed RUN as the builder reports it.
type exitErr struct{ code int }

func (e exitErr) Error() string {
	return fmt.Sprintf("The command '/bin/sh -c exit %d' returned a non-zero code: %d", e.code, e.code)
}
func (e exitErr) ExitCode() int { return e.code }

func newBuildEnv(t *testing.T, build func(out io.Writer) error) (*buildFake, *client.Client) {
	t.Helper()
	fake := &buildFake{fakeBackend: newFakeBackend(), build: build}
	srv := httptest.NewServer(New(fake, Options{Version: "1.56", MinVersion: "1.24"}).Handler())
	t.Cleanup(srv.Close)
	c, err := client.New(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")), client.WithAPIVersion("1.56"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return fake, c
}

// TestBuildQuery checks that the moby client's ImageBuild options reach the
// builder as dockerd reads them.
func TestBuildQuery(t *testing.T) {
	fake, c := newBuildEnv(t, func(out io.Writer) error {
		_, err := io.WriteString(out, `{"stream":"Step 1/1 : FROM busybox\n"}`+"\n")
		return err
	})
	v := "1"
	res, err := c.ImageBuild(testCtx(t), strings.NewReader("the context"), client.ImageBuildOptions{
		Tags:        []string{"a:1", "b"},
		Dockerfile:  "sub/Dockerfile.x",
		BuildArgs:   map[string]*string{"V": &v, "UNSET": nil},
		Labels:      map[string]string{"l": "x"},
		Target:      "final",
		NoCache:     true,
		PullParent:  true,
		Remove:      false,
		NetworkMode: "host",
		ExtraHosts:  []string{"h:10.0.0.1"},
		CacheFrom:   []string{"img:cache"},
		ShmSize:     1 << 20,
		Ulimits:     []*container.Ulimit{{Name: "nofile", Soft: 10, Hard: 20}},
		BuildID:     "bid",
		AuthConfigs: map[string]registry.AuthConfig{"reg.example": {Username: "u", Password: "p"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(out), "Step 1/1") {
		t.Errorf("stream = %q", out)
	}
	want := BuildOptions{
		Tags:        []string{"a:1", "b"},
		Dockerfile:  "sub/Dockerfile.x",
		BuildArgs:   map[string]*string{"V": &v, "UNSET": nil},
		Labels:      map[string]string{"l": "x"},
		Target:      "final",
		NoCache:     true,
		Pull:        true,
		Remove:      false,
		NetworkMode: "host",
		ExtraHosts:  []string{"h:10.0.0.1"},
		CacheFrom:   []string{"img:cache"},
		ShmSize:     1 << 20,
		Ulimits:     []string{"nofile=10:20"},
		Version:     "1",
		BuildID:     "bid",
		AuthConfigs: map[string]registry.AuthConfig{"reg.example": {Username: "u", Password: "p"}},
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if !reflect.DeepEqual(fake.got, want) {
		t.Errorf("options:\n got %+v\nwant %+v", fake.got, want)
	}
	if fake.body != "the context" {
		t.Errorf("body = %q", fake.body)
	}
}

// TestBuildQueryDefaults checks rm's default, forcerm implying it, the
// version and the parameters dockerd refuses.
func TestBuildQueryDefaults(t *testing.T) {
	for _, tc := range []struct {
		query   string
		version string
		check   func(BuildOptions) bool
		status  int
		msg     string
	}{
		{query: "", check: func(o BuildOptions) bool { return o.Remove && o.Version == "1" && o.Dockerfile == "" }},
		{query: "rm=0", check: func(o BuildOptions) bool { return !o.Remove }},
		{query: "rm=0&forcerm=1", check: func(o BuildOptions) bool { return o.Remove && o.ForceRemove }},
		{query: "q=1", check: func(o BuildOptions) bool { return o.Quiet }},
		{query: "version=2&session=s1&remote=client-session&outputs=" + `[{"Type":"local","Attrs":{"dest":"x"}}]`, check: func(o BuildOptions) bool {
			return o.Version == "2" && o.SessionID == "s1" && o.RemoteContext == "client-session" &&
				len(o.Outputs) == 1 && o.Outputs[0].Type == "local" && o.Outputs[0].Attrs["dest"] == "x"
		}},
		{query: "platform=linux/amd64", check: func(o BuildOptions) bool { return o.Platform == "linux/amd64" }},
		{query: "platform=linux/amd64", version: "1.31", check: func(o BuildOptions) bool { return o.Platform == "" }},
		{query: "version=3", status: 400, msg: `invalid version "3"`},
		{query: "buildargs=nope", status: 400, msg: "error reading build args"},
		{query: "labels=%7B", status: 400, msg: "error reading labels"},
		{query: "cachefrom=x", status: 400, msg: "error reading cache-from"},
		{query: "squash=1", status: 400, msg: "squash is only supported with experimental mode"},
		{query: "securityopt=x", status: 400, msg: "security options are not supported on linux"},
		{query: "isolation=hyperv", status: 400, msg: `unsupported isolation: "hyperv"`},
	} {
		t.Run(tc.query, func(t *testing.T) {
			fake := &buildFake{fakeBackend: newFakeBackend(), build: func(io.Writer) error { return nil }}
			srv := httptest.NewServer(New(fake, Options{Version: "1.56", MinVersion: "1.24"}).Handler())
			defer srv.Close()
			version := tc.version
			if version == "" {
				version = "1.56"
			}
			resp, err := http.Post(srv.URL+"/v"+version+"/build?"+tc.query, "application/x-tar", strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.status != 0 {
				var m struct{ Message string }
				_ = json.Unmarshal(body, &m)
				if resp.StatusCode != tc.status || !strings.Contains(m.Message, tc.msg) {
					t.Fatalf("got %d %s, want %d %q", resp.StatusCode, body, tc.status, tc.msg)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("got %d %s", resp.StatusCode, body)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if !tc.check(fake.got) {
				t.Errorf("options %+v", fake.got)
			}
		})
	}
}

// TestBuildErrors checks where a build's error goes: an HTTP status before
// the first message (a Dockerfile that does not parse is a 400, as with
// dockerd), the stream's last message after it, with a failed RUN's exit
// code in errorDetail.
func TestBuildErrors(t *testing.T) {
	t.Run("before the stream", func(t *testing.T) {
		_, c := newBuildEnv(t, func(out io.Writer) error {
			return errdefs.ErrInvalidArgument.WithMessage("dockerfile parse error on line 2: unknown instruction: FOO")
		})
		_, err := c.ImageBuild(testCtx(t), strings.NewReader(""), client.ImageBuildOptions{})
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "unknown instruction: FOO") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("in the stream", func(t *testing.T) {
		_, c := newBuildEnv(t, func(out io.Writer) error {
			io.WriteString(out, `{"stream":"Step 2/2 : RUN exit 3\n"}`+"\n")
			return fmt.Errorf("wrapped: %w", exitErr{3})
		})
		res, err := c.ImageBuild(testCtx(t), strings.NewReader(""), client.ImageBuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		dec := json.NewDecoder(res.Body)
		var last struct {
			Stream      string
			Error       string
			ErrorDetail struct {
				Code    int
				Message string
			}
		}
		for {
			if err := dec.Decode(&last); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		msg := "wrapped: The command '/bin/sh -c exit 3' returned a non-zero code: 3"
		if last.ErrorDetail.Code != 3 || last.ErrorDetail.Message != msg || last.Error != msg {
			t.Errorf("last message %+v", last)
		}
	})
}

// TestBuildCancel checks POST /build/cancel.
func TestBuildCancel(t *testing.T) {
	fake, c := newBuildEnv(t, func(io.Writer) error { return nil })
	if _, err := c.BuildCancel(testCtx(t), "bid-1", client.BuildCancelOptions{}); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	got := fake.canceled
	fake.mu.Unlock()
	if !reflect.DeepEqual(got, []string{"bid-1"}) {
		t.Errorf("canceled %v", got)
	}
	srv := httptest.NewServer(New(fake, Options{}).Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/build/cancel", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "build ID not provided") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}
