package credentials

import (
	"os"
	"path/filepath"

	"github.com/moby/moby/api/types/registry"
)

// Environment variables naming the config folders.
const (
	BerthConfigEnv  = "BERTH_CONFIG"
	DockerConfigEnv = "DOCKER_CONFIG"
)

// BerthConfigPath is berth's config.json: in dir when set (--config), else
// in $BERTH_CONFIG, else in ~/.berth.
func BerthConfigPath(dir string) string {
	if dir == "" {
		dir = os.Getenv(BerthConfigEnv)
	}
	if dir == "" {
		dir = filepath.Join(homeDir(), ".berth")
	}
	return filepath.Join(dir, "config.json")
}

// DockerConfigPath is docker's config.json: in $DOCKER_CONFIG, else in
// ~/.docker.
func DockerConfigPath() string {
	dir := os.Getenv(DockerConfigEnv)
	if dir == "" {
		dir = filepath.Join(homeDir(), ".docker")
	}
	return filepath.Join(dir, "config.json")
}

func homeDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/root"
}

// Lookup returns server's credentials from berth's config file, else from
// docker's unless berth logged out of server. Nothing found is not an
// error: the result is then empty.
func Lookup(berthPath, dockerPath, server string) (registry.AuthConfig, error) {
	for _, p := range []string{berthPath, dockerPath} {
		if p == "" {
			continue
		}
		f, err := Load(p)
		if err != nil {
			return registry.AuthConfig{}, err
		}
		if p == berthPath && f.IsLoggedOut(server) {
			break
		}
		cfg, ok, err := f.Get(server)
		if err != nil {
			return registry.AuthConfig{}, err
		}
		if ok {
			cfg.ServerAddress = server
			return cfg, nil
		}
	}
	return registry.AuthConfig{ServerAddress: server}, nil
}
