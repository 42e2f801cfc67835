package buildcmd

import (
	"context"
	"strings"

	"github.com/berth-project/berth/internal/registry/credentials"
	"github.com/docker/cli/cli/config/types"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// attachables are what the build's session offers the daemon besides the
// files: registry credentials, --secret and --ssh.
func (o *options) attachables(berthConfig string) ([]session.Attachable, error) {
	out := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authConfig(berthConfig, credentials.DockerConfigPath()),
	})}
	if len(o.secrets) > 0 {
		srcs, err := parseSecrets(o.secrets)
		if err != nil {
			return nil, err
		}
		store, err := secretsprovider.NewStore(srcs)
		if err != nil {
			return nil, invalid("%v", err)
		}
		out = append(out, secretsprovider.NewSecretProvider(store))
	}
	if len(o.ssh) > 0 {
		confs, err := parseSSH(o.ssh)
		if err != nil {
			return nil, err
		}
		sp, err := sshprovider.NewSSHAgentProvider(confs)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// authConfig answers the daemon's credential requests from berth's
// config.json, else docker's (what `berth login` and `docker login` wrote).
func authConfig(berthPath, dockerPath string) authprovider.AuthConfigProvider {
	return func(_ context.Context, host string, _ []string, _ authprovider.ExpireCachedAuthCheck) (types.AuthConfig, error) {
		key := host
		if host == authprovider.DockerHubRegistryHost || host == "docker.io" || host == "index.docker.io" {
			key = credentials.IndexServer
		}
		cfg, err := credentials.Lookup(berthPath, dockerPath, key)
		if err != nil {
			return types.AuthConfig{}, err
		}
		return types.AuthConfig{
			Username:      cfg.Username,
			Password:      cfg.Password,
			Auth:          cfg.Auth,
			ServerAddress: cfg.ServerAddress,
			IdentityToken: cfg.IdentityToken,
			RegistryToken: cfg.RegistryToken,
		}, nil
	}
}

// parseSecrets parses --secret id=NAME[,src=PATH|,env=VAR][,type=file|env].
// With neither src nor env, the secret comes from the variable named NAME,
// else the file NAME (BuildKit's store decides).
func parseSecrets(specs []string) ([]secretsprovider.Source, error) {
	var out []secretsprovider.Source
	for _, spec := range specs {
		fields, err := csvFields(spec)
		if err != nil {
			return nil, invalid("failed to parse csv secret: %v", err)
		}
		var s secretsprovider.Source
		typ := ""
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, invalid("invalid field '%s' must be a key=value pair", f)
			}
			switch strings.ToLower(k) {
			case "type":
				if v != "file" && v != "env" {
					return nil, invalid("unsupported secret type %q", v)
				}
				typ = v
			case "id":
				s.ID = v
			case "source", "src":
				s.FilePath = v
			case "env":
				s.Env = v
			default:
				return nil, invalid("unexpected key '%s' in '%s'", k, f)
			}
		}
		if typ == "env" && s.Env == "" {
			s.Env, s.FilePath = s.FilePath, ""
		}
		if s.ID == "" {
			return nil, invalid("secret missing ID: %q", spec)
		}
		out = append(out, s)
	}
	return out, nil
}

// parseSSH parses --ssh default|ID[=SOCKET|KEY[,KEY]].
func parseSSH(specs []string) ([]sshprovider.AgentConfig, error) {
	var out []sshprovider.AgentConfig
	for _, spec := range specs {
		id, paths, ok := strings.Cut(spec, "=")
		c := sshprovider.AgentConfig{ID: id}
		if ok {
			c.Paths = strings.Split(paths, ",")
		}
		if c.ID == "" {
			return nil, invalid("invalid ssh spec %q", spec)
		}
		out = append(out, c)
	}
	return out, nil
}
