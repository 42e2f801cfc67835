package main

import (
	"testing"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
)

// TestRuntimeAdapt: crun 1.8 gets the spec version it implements and no
// unlimited pids limit on cgroup v1; runc's specs are left as they were.
func TestRuntimeAdapt(t *testing.T) {
	crun := runtime.Version{Name: "crun", Version: "1.8.1", Spec: "1.0.0"}
	for _, tc := range []struct {
		v       runtime.Version
		v2      bool
		version string
		noPids  bool
	}{
		{crun, false, "1.0.0", true},
		{crun, true, "1.0.0", false},
		{runtime.Version{Name: "crun", Version: "1.14", Spec: "1.0.0"}, false, "1.0.0", false},
		{runtime.Version{Name: "runc", Version: "1.1.5+ds1", Spec: "1.0.2-dev"}, false, "", false},
		{runtime.Version{}, false, "", false},
	} {
		h := selectedRuntime{Version: tc.v}.adapt(oci.Host{CgroupV2: tc.v2})
		if h.OCIVersion != tc.version || h.NoUnlimitedPids != tc.noPids {
			t.Errorf("%+v (v2 %v): OCIVersion %q NoUnlimitedPids %v, want %q %v", tc.v, tc.v2, h.OCIVersion, h.NoUnlimitedPids, tc.version, tc.noPids)
		}
	}
}
