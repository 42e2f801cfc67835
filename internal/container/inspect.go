package container

import (
	"maps"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Inspect returns the container in the shape of docker's
// GET /containers/{id}/json. Callers hold the lock and may fill more
// (GraphDriver, network endpoints, mounts).
func (c *Container) Inspect() *containertypes.InspectResponse {
	var cfg *containertypes.Config
	if c.Config != nil {
		v := *c.Config
		cfg = &v
	}
	var hc *containertypes.HostConfig
	if c.HostConfig != nil {
		v := *c.HostConfig
		hc = &v
	}
	return &containertypes.InspectResponse{
		ID:              c.ID,
		Created:         apiTime(c.Created),
		Path:            c.Path,
		Args:            nonNil(c.Args),
		State:           c.State.Inspect(),
		Image:           c.ImageID,
		ResolvConfPath:  c.ResolvConfPath,
		HostnamePath:    c.HostnamePath,
		HostsPath:       c.HostsPath,
		LogPath:         c.LogPath,
		Name:            c.Name,
		RestartCount:    c.RestartCount,
		Driver:          "overlay2",
		Platform:        "linux",
		HostConfig:      hc,
		Mounts:          []containertypes.MountPoint{},
		Config:          cfg,
		NetworkSettings: &containertypes.NetworkSettings{Networks: map[string]*network.EndpointSettings{}},
	}
}

// Summary returns the container's row in docker's GET /containers/json;
// imageName is the image as the user named it (or its id when untagged).
func (c *Container) Summary(imageName string) containertypes.Summary {
	s := containertypes.Summary{
		ID:              c.ID,
		Names:           []string{c.Name},
		Image:           imageName,
		ImageID:         c.ImageID,
		Command:         Command(c.Path, c.Args),
		Created:         c.Created.Unix(),
		Ports:           []containertypes.PortSummary{},
		Labels:          map[string]string{},
		State:           c.State.status(),
		Status:          c.State.String(),
		NetworkSettings: &containertypes.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{}},
		Mounts:          []containertypes.MountPoint{},
	}
	if c.Config != nil {
		maps.Copy(s.Labels, c.Config.Labels)
	}
	if h := c.State.Health; h != nil {
		s.Health = &containertypes.HealthSummary{Status: h.Status, FailingStreak: h.FailingStreak}
	}
	if c.HostConfig != nil {
		s.HostConfig.NetworkMode = string(c.HostConfig.NetworkMode)
	}
	return s
}

// Command formats a process as docker's ps COMMAND column does: the path,
// then the arguments, those holding a space wrapped in single quotes.
func Command(path string, args []string) string {
	if len(args) == 0 {
		return path
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		quoted[i] = a
	}
	return path + " " + strings.Join(quoted, " ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
