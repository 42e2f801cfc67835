package build

import (
	"math"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/disk"
)

// defaultGCPolicy is dockerd's default build cache policy for a cache under
// root: reserve 10% of the disk, use at most 80% and keep 20% free, as
// dockerd 28 does; the easily rebuilt records (local context, cache mounts,
// git checkouts) go first, after two days unused.
func defaultGCPolicy(root string) []client.PruneInfo {
	var reserved, maxUsed, minFree int64
	if st, err := disk.GetDiskStat(root); err == nil {
		reserved = diskPercent(st.Total, 10)
		maxUsed = diskPercent(st.Total, 80)
		minFree = diskPercent(st.Total, 20)
	} else {
		reserved = 2e9
	}
	// The temporary records' share: e·π·φ percent, dockerd's constant.
	temp := max(int64(math.Round(float64(reserved)/100*math.E*math.Pi*math.Phi)), 512e6)
	return []client.PruneInfo{
		{Filter: []string{"type==source.local", "type==exec.cachemount", "type==source.git.checkout"}, KeepDuration: 48 * time.Hour, MaxUsedSpace: temp},
		{KeepDuration: 60 * 24 * time.Hour, ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree},
		{ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree},
		{All: true, ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree},
	}
}

// diskPercent is pct% of total, rounded up to whole gigabytes.
func diskPercent(total, pct int64) int64 {
	return (total*pct/100/(1<<30) + 1) * 1e9
}
