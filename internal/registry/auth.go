package registry

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/moby/moby/api/types/registry"
)

// Authenticator turns credentials into go-containerregistry's form;
// anonymous when cfg holds none.
func Authenticator(cfg registry.AuthConfig) authn.Authenticator {
	if !HasCredentials(cfg) {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      cfg.Username,
		Password:      cfg.Password,
		Auth:          cfg.Auth,
		IdentityToken: cfg.IdentityToken,
		RegistryToken: cfg.RegistryToken,
	})
}

// HasCredentials reports whether cfg carries any secret.
func HasCredentials(cfg registry.AuthConfig) bool {
	return cfg.Username != "" || cfg.Password != "" || cfg.Auth != "" || cfg.IdentityToken != "" || cfg.RegistryToken != ""
}
