package daemon

import (
	"path"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/oci"
)

// defaultCgroupParent is the cgroup berth's containers go under when they
// name no parent (dockerd's is /docker).
const defaultCgroupParent = "/berth"

// cgroupsPath is c's cgroup with the cgroupfs driver, as dockerd's:
// <HostConfig.CgroupParent or /berth>/<id>. A relative parent is relative to
// the runtime's own cgroup, as with dockerd and runc.
func cgroupsPath(c *container.Container) string {
	parent := c.HostConfig.CgroupParent
	if parent == "" {
		parent = defaultCgroupParent
	}
	return path.Join(parent, c.ID)
}

// oomScoreAdjWarning is the warning for c's OomScoreAdj when the host
// forbids it and berth raises it ("" otherwise): create returns it and
// each start logs it.
func (d *Daemon) oomScoreAdjWarning(want int) string {
	_, warning := oci.OomScoreAdj(want, &d.host)
	return warning
}
