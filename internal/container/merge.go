package container

import (
	"maps"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// MergeConfig returns the container config docker derives from an image's
// config and a create request; neither argument is modified.
//
//   - Entrypoint and Cmd: when the request sets no entrypoint, the image's
//     is used and, when the request sets no command either, the image's Cmd.
//     A request entrypoint (even [""]) drops the image's Cmd. An entrypoint
//     of [""] means "no entrypoint".
//   - Env: the request's entries, then the image's entries whose keys the
//     request does not set (docker's order).
//   - User, WorkingDir, StopSignal, Healthcheck (field by field): the
//     image's when the request leaves them empty; ExposedPorts, Volumes and
//     Labels: the union, the request winning on labels.
//
// With no command at all it fails with errdefs.ErrInvalidArgument.
func MergeConfig(img *dockerspec.DockerOCIImageConfig, req *containertypes.Config) (*containertypes.Config, error) {
	if req == nil {
		req = &containertypes.Config{}
	}
	cfg := copyConfig(req)
	if img != nil {
		mergeImage(cfg, img)
	}
	if len(cfg.Entrypoint) == 1 && cfg.Entrypoint[0] == "" {
		cfg.Entrypoint = nil
	}
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("no command specified")
	}
	return cfg, nil
}

// copyConfig copies the parts of a config that merging writes to.
func copyConfig(req *containertypes.Config) *containertypes.Config {
	cfg := *req
	cfg.Env = slices.Clone(req.Env)
	cfg.Cmd = slices.Clone(req.Cmd)
	cfg.Entrypoint = slices.Clone(req.Entrypoint)
	cfg.Labels = maps.Clone(req.Labels)
	cfg.Volumes = maps.Clone(req.Volumes)
	cfg.ExposedPorts = maps.Clone(req.ExposedPorts)
	if req.Healthcheck != nil {
		h := *req.Healthcheck
		h.Test = slices.Clone(req.Healthcheck.Test)
		cfg.Healthcheck = &h
	}
	return &cfg
}

func mergeImage(cfg *containertypes.Config, img *dockerspec.DockerOCIImageConfig) {
	if cfg.User == "" {
		cfg.User = img.User
	}
	for p := range img.ExposedPorts {
		port, err := network.ParsePort(p)
		if err != nil {
			continue
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = network.PortSet{}
		}
		cfg.ExposedPorts[port] = struct{}{}
	}
	cfg.Env = mergeEnv(cfg.Env, img.Env)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for k, v := range img.Labels {
		if _, ok := cfg.Labels[k]; !ok {
			cfg.Labels[k] = v
		}
	}
	// A request entrypoint, even [""], means the image's Cmd no longer applies.
	if len(cfg.Entrypoint) == 0 {
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = slices.Clone(img.Cmd)
		}
		// An explicit empty list (not null) resets the image's entrypoint.
		if cfg.Entrypoint == nil {
			cfg.Entrypoint = slices.Clone(img.Entrypoint)
		}
	}
	mergeHealthcheck(cfg, img.Healthcheck)
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = img.WorkingDir
	}
	for v := range img.Volumes {
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = img.StopSignal
	}
	if len(cfg.OnBuild) == 0 {
		cfg.OnBuild = slices.Clone(img.OnBuild)
	}
	if len(cfg.Shell) == 0 {
		cfg.Shell = slices.Clone(img.Shell)
	}
}

func mergeHealthcheck(cfg *containertypes.Config, img *dockerspec.HealthcheckConfig) {
	if img == nil {
		return
	}
	if cfg.Healthcheck == nil {
		h := *img
		h.Test = slices.Clone(img.Test)
		cfg.Healthcheck = &h
		return
	}
	h := cfg.Healthcheck
	if len(h.Test) == 0 {
		h.Test = slices.Clone(img.Test)
	}
	if h.Interval == 0 {
		h.Interval = img.Interval
	}
	if h.Timeout == 0 {
		h.Timeout = img.Timeout
	}
	if h.StartPeriod == 0 {
		h.StartPeriod = img.StartPeriod
	}
	if h.StartInterval == 0 {
		h.StartInterval = img.StartInterval
	}
	if h.Retries == 0 {
		h.Retries = img.Retries
	}
}

// mergeEnv returns the request's entries followed by the image's entries
// whose key the request does not set.
func mergeEnv(req, img []string) []string {
	if len(req) == 0 {
		return slices.Clone(img)
	}
	keys := make(map[string]bool, len(req))
	for _, e := range req {
		keys[envKey(e)] = true
	}
	out := slices.Clone(req)
	for _, e := range img {
		if !keys[envKey(e)] {
			out = append(out, e)
		}
	}
	return out
}

func envKey(e string) string {
	k, _, _ := strings.Cut(e, "=")
	return k
}

// Process splits a merged config into the process to run: the entrypoint's
// first word and the rest followed by the command, or the command alone.
func Process(cfg *containertypes.Config) (path string, args []string) {
	if len(cfg.Entrypoint) > 0 {
		return cfg.Entrypoint[0], append(slices.Clone(cfg.Entrypoint[1:]), cfg.Cmd...)
	}
	if len(cfg.Cmd) > 0 {
		return cfg.Cmd[0], slices.Clone(cfg.Cmd[1:])
	}
	return "", []string{}
}
