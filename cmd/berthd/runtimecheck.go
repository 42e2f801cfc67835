package main

import (
	"context"
	"log/slog"

	"github.com/berth-project/berth/internal/runtime"
)

// runtimeWarning is the warning for an OCI runtime open to CVE-2024-21626
// (runc before 1.1.12 without a backport of the fix), "" when there is
// none or the runtime does not say its version.
func runtimeWarning(ctx context.Context, path string) string {
	rt := &runtime.Runtime{Path: path}
	v, err := rt.Version(ctx)
	if err != nil {
		slog.Debug("OCI runtime version", "path", path, "err", err)
		return ""
	}
	patched := false
	if runtime.LeakedFdsWarning(v, false) != "" {
		if patched, err = runtime.HasMarker(path, runtime.LeakedFdsMarker); err != nil {
			slog.Debug("OCI runtime binary", "path", path, "err", err)
		} else if patched {
			slog.Info("OCI runtime carries the fix for CVE-2024-21626 (backported)", "runtime", v.Name, "version", v.Version, "commit", v.Commit)
		}
	}
	return runtime.LeakedFdsWarning(v, patched)
}
