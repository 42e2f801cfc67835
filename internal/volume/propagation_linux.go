package volume

import (
	"fmt"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// SourcePropagation finds the mount that holds path on the host and says
// whether it is shared or a slave: docker allows a shared bind only from a
// shared mount, a slave bind only from a shared or slave one.
func SourcePropagation(path string) (mountpoint string, shared, slave bool, err error) {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil {
		return "", false, false, err
	}
	var best *mountinfo.Info
	for _, m := range mounts {
		if best == nil || len(m.Mountpoint) > len(best.Mountpoint) {
			best = m
		}
	}
	if best == nil {
		return "", false, false, fmt.Errorf("could not find the mount of %s", path)
	}
	for _, opt := range strings.Fields(best.Optional) {
		shared = shared || strings.HasPrefix(opt, "shared:")
		slave = slave || strings.HasPrefix(opt, "master:")
	}
	return best.Mountpoint, shared, slave, nil
}
