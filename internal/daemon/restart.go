package daemon

import (
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/tasks"
)

// validateRestartPolicy refuses, at create, the policies docker refuses; the
// policy itself is applied by the supervisor.
func validateRestartPolicy(hc *containertypes.HostConfig) error {
	return tasks.ValidateRestartPolicy(hc)
}
