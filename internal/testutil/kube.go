package testutil

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// CrictlVersion is the cri-tools release whose crictl the Kubernetes tests
// drive cri-dockerd with.
const CrictlVersion = "v1.37.0"

// CriDockerdVersion is the cri-dockerd release (the CRI adapter the kubelet
// uses for a Docker Engine API) the Kubernetes tests run against berthd.
const CriDockerdVersion = "v0.4.3"

// criDockerdCommit is CriDockerdVersion's commit, which its build stamps.
const criDockerdCommit = "d969e29f"

// CrictlCacheEnv and CriDockerdCacheEnv name the environment variables
// that override the folders crictl and cri-dockerd are built into
// (DefaultCrictlCache and DefaultCriDockerdCache otherwise).
const (
	CrictlCacheEnv     = "BERTH_CRICTL_CACHE"
	CriDockerdCacheEnv = "BERTH_CRIDOCKERD_CACHE"
)

// DefaultCrictlCache and DefaultCriDockerdCache are where crictl and
// cri-dockerd are built: outside any test's folder, so one build serves
// every run (and make test-kube).
const (
	DefaultCrictlCache     = "/tmp/crictl-cache"
	DefaultCriDockerdCache = "/tmp/cri-dockerd-cache"
)

// crictl is built with `go install`, stamped as cri-tools' Makefile does.
var crictl = &cachedTool{
	name:         "crictl",
	version:      CrictlVersion,
	cacheEnv:     CrictlCacheEnv,
	defaultCache: DefaultCrictlCache,
	versionOut:   "crictl version " + CrictlVersion[1:],
	versionArgs:  []string{"--version"},
	build: func(goBin, dir, tmp string) (string, error) {
		_, err := runGo(goBin, dir, staticGoEnv("GOBIN="+tmp), "install", "-trimpath",
			"-ldflags", "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version="+CrictlVersion[1:],
			"sigs.k8s.io/cri-tools/cmd/crictl@"+CrictlVersion)
		return filepath.Join(tmp, "crictl"), err
	},
}

// criDockerd is built from its module's source: `go install` refuses it
// (the proxy refuses its version list, and its go.mod has replace
// directives, which already name published Kubernetes modules).
var criDockerd = &cachedTool{
	name:         "cri-dockerd",
	version:      CriDockerdVersion,
	cacheEnv:     CriDockerdCacheEnv,
	defaultCache: DefaultCriDockerdCache,
	versionOut:   "cri-dockerd " + CriDockerdVersion[1:] + " (" + criDockerdCommit + ")",
	versionArgs:  []string{"--version"},
	build: func(goBin, dir, tmp string) (string, error) {
		env := staticGoEnv()
		out, err := runGo(goBin, dir, env, "mod", "download", "-json", "github.com/Mirantis/cri-dockerd@"+CriDockerdVersion)
		if err != nil {
			return "", err
		}
		mod, err := downloadedDir(out)
		if err != nil {
			return "", err
		}
		// a writable copy (module zips hold no symbolic links): -mod=mod
		// adds the go.sum lines it lacks
		src := filepath.Join(tmp, "src")
		if err := os.CopyFS(src, os.DirFS(mod)); err != nil {
			return "", err
		}
		bin := filepath.Join(tmp, "cri-dockerd")
		const v = "github.com/Mirantis/cri-dockerd/cmd/version."
		_, err = runGo(goBin, src, env, "build", "-mod=mod", "-trimpath",
			"-ldflags", "-s -w -X "+v+"Version="+CriDockerdVersion[1:]+" -X "+v+"GitCommit="+criDockerdCommit,
			"-o", bin, ".")
		return bin, err
	},
}

// CrictlBinary returns the path of crictl CrictlVersion in its cache,
// building it there when it is missing or another version (about a minute
// cold). Concurrent processes build it once.
func CrictlBinary() (string, error) { return crictl.binary() }

// CriDockerdBinary returns the path of cri-dockerd CriDockerdVersion in its
// cache, building it there when it is missing or another version (about
// five minutes cold). Concurrent processes build it once.
func CriDockerdBinary() (string, error) { return criDockerd.binary() }

// RequiresKubeClients returns crictl and cri-dockerd, building them on
// first use; it skips t with the reason when either cannot be built here
// (on CI, make's kube-clients step fails instead).
func RequiresKubeClients(t testing.TB) (crictlBin, criDockerdBin string) {
	t.Helper()
	crictlBin, err := CrictlBinary()
	if err != nil {
		t.Skipf("crictl %s cannot be built here: %v", CrictlVersion, err)
	}
	criDockerdBin, err = CriDockerdBinary()
	if err != nil {
		t.Skipf("cri-dockerd %s cannot be built here: %v", CriDockerdVersion, err)
	}
	return crictlBin, criDockerdBin
}

// PauseRootfsTar is the tar of a pod sandbox image's root filesystem:
// /pause, internal/testutil/pause built static (as scripts/pause-image.sh
// builds it). Import it with ENTRYPOINT ["/pause"] and USER 65535:65535.
func PauseRootfsTar(t testing.TB) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	goBin, err := goToolchain()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pause")
	if _, err := runGo(goBin, filepath.Join(filepath.Dir(file), "pause"), staticGoEnv(),
		"build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "."); err != nil {
		t.Fatalf("build pause: %v", err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
