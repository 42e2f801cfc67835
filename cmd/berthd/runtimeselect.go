package main

import (
	"context"
	"log/slog"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
)

// autoRuntime is the --default-runtime value that picks the runtime at
// boot: crun where it is installed, runc otherwise.
const autoRuntime = "auto"

// selectedRuntime is the OCI runtime containers run under, chosen at boot.
type selectedRuntime struct {
	Path    string          // the binary
	Version runtime.Version // what its --version says (zero when it says nothing)
	Build   string          // the runtime BuildKit's RUN steps use: runc, whose executor it is
}

// selectRuntime resolves --default-runtime. "auto" takes crun when it is
// in $PATH and names itself crun (measured at about half of runc's time
// per container on berth's spec), runc otherwise; any other value is the
// runtime's name or path, as before. On a hybrid cgroup host crun runs with
// the v2 mount hidden (internal/runtime's cgroupview.go says why).
func selectRuntime(ctx context.Context, name string, log *slog.Logger) (selectedRuntime, error) {
	if name == autoRuntime {
		name = "runc"
		if p, err := execLookPath("crun"); err == nil {
			if v, err := (&runtime.Runtime{Path: p}).Version(ctx); err == nil && v.Name == "crun" {
				name = p
			} else {
				log.Info("crun found but does not answer --version as crun; using runc", "path", p, "err", err)
			}
		}
	}
	path, err := resolveBinary(name)
	if err != nil {
		return selectedRuntime{}, err
	}
	sel := selectedRuntime{Path: path, Build: path}
	if v, err := (&runtime.Runtime{Path: path}).Version(ctx); err == nil {
		sel.Version = v
	}
	if sel.Version.Name == "crun" {
		if runc, err := execLookPath("runc"); err == nil {
			sel.Build = runc
		}
	}
	log.Info("OCI runtime", "path", sel.Path, "name", sel.Version.Name, "version", sel.Version.Version)
	return sel, nil
}

// host is what the daemon's specs need to know of the host and of the
// runtime: crun is given the runtime-spec version it says it implements
// (crun 1.8 refuses any ociVersion without "1.0" in it), and no unlimited
// pids limit where it would write -1 into a v1 pids.max.
func (s selectedRuntime) host() *oci.Host {
	h := oci.DetectHost()
	return s.adapt(h)
}

// adapt fits h to the runtime's quirks.
func (s selectedRuntime) adapt(h oci.Host) *oci.Host {
	if s.Version.Name == "crun" && s.Version.Spec != "" {
		h.OCIVersion = s.Version.Spec
	}
	h.NoUnlimitedPids = runtime.WritesNegativePids(s.Version) && !h.CgroupV2
	return &h
}
