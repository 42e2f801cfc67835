package oci

import "fmt"

// OomScoreAdj is the oom_score_adj a container gets on h when it asks for
// want: want itself, or, where h forbids lowering the score
// (OomScoreAdjFloor is set: berth's bounding set lacks CAP_SYS_RESOURCE,
// so the runtime's write of a lower value would fail the start, as it
// fails dockerd's), the lowest value h allows, with a warning saying so.
// Kubernetes asks for -998 for every pod sandbox and -997 for Guaranteed
// pods, which such hosts would otherwise refuse to start.
func OomScoreAdj(want int, h *Host) (adj int, warning string) {
	if h == nil || h.OomScoreAdjFloor == nil || want >= *h.OomScoreAdjFloor {
		return want, ""
	}
	floor := *h.OomScoreAdjFloor
	return floor, fmt.Sprintf("Your kernel does not allow lowering the OOM score adjustment (no CAP_SYS_RESOURCE): OomScoreAdj %d is raised to %d", want, floor)
}
