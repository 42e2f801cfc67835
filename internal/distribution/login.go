package distribution

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/moby/api/types/registry"

	reg "github.com/berth-project/berth/internal/registry"
)

// Login checks credentials against their registry, as dockerd's POST /auth
// does: go-containerregistry's transport pings the registry and, for a
// token registry, exchanges the credentials for a token; a registry that
// asks for basic credentials is then asked for /v2/ with them.
func (s *Service) Login(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error) {
	host := loginHost(auth.ServerAddress)
	registryName, err := name.NewRegistry(host)
	if err != nil {
		return registry.AuthResponse{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	ep, err := s.endpoint(ctx, registryName)
	if err != nil {
		return registry.AuthResponse{}, err
	}
	sess, err := s.authenticate(ctx, ep, registryName, auth, nil)
	if err != nil {
		return registry.AuthResponse{}, errdefs.ErrUnauthenticated.WithMessage(err.Error())
	}
	u := sess.ep.URL("/v2/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return registry.AuthResponse{}, err
	}
	resp, err := (&http.Client{Transport: sess.rt}).Do(req)
	if err != nil {
		return registry.AuthResponse{}, sess.ep.FixError(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return registry.AuthResponse{}, errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("login attempt to %s failed with status: %d %s", u, resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	return registry.AuthResponse{Status: "Login Succeeded"}, nil
}

// loginHost is the registry host of a login's server address ("" and
// Docker Hub's index address mean Docker Hub).
func loginHost(server string) string {
	s := strings.TrimSpace(server)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "index.docker.io", "docker.io", "registry-1.docker.io":
		return reg.DefaultHost
	}
	return s
}
