package oci

import (
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
)

func TestOomScoreAdjClamped(t *testing.T) {
	zero, minus := 0, -500
	for _, tc := range []struct {
		want  int
		floor *int
		adj   int
		warns bool
	}{
		{-998, nil, -998, false},    // CAP_SYS_RESOURCE: anything goes
		{-998, &zero, 0, true},      // the pod sandbox on a restricted host
		{-997, &minus, -500, true},  // a Guaranteed pod under a lowered berthd
		{-500, &minus, -500, false}, // at the floor
		{500, &zero, 500, false},    // raising is always allowed
	} {
		adj, warning := OomScoreAdj(tc.want, &Host{OomScoreAdjFloor: tc.floor})
		if adj != tc.adj || (warning != "") != tc.warns {
			t.Errorf("OomScoreAdj(%d, floor %v) = %d, %q; want %d, warning %v", tc.want, tc.floor, adj, warning, tc.adj, tc.warns)
		}
		if tc.warns && !strings.Contains(warning, "CAP_SYS_RESOURCE") {
			t.Errorf("warning %q does not say why", warning)
		}
	}
	s, err := Spec(Options{ID: "x", Rootfs: "/r", Args: []string{"true"}, Host: &Host{OomScoreAdjFloor: &zero},
		HostConfig: &containertypes.HostConfig{OomScoreAdj: -998}})
	if err != nil {
		t.Fatal(err)
	}
	if got := *s.Process.OOMScoreAdj; got != 0 {
		t.Errorf("spec's oomScoreAdj = %d, want the floor 0", got)
	}
}
