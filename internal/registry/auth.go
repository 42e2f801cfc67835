package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/moby/moby/api/types/registry"
)

// DecodeAuth reads an X-Registry-Auth header: base64url-encoded JSON of
// an AuthConfig, as the docker CLI sends it. An empty header means no
// credentials. Standard base64 and missing padding are accepted too, since
// some clients send them.
func DecodeAuth(header string) (registry.AuthConfig, error) {
	var cfg registry.AuthConfig
	header = strings.TrimSpace(header)
	if header == "" {
		return cfg, nil
	}
	var data []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if data, err = enc.DecodeString(header); err == nil {
			break
		}
	}
	if err != nil {
		return cfg, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid X-Registry-Auth header: %v", err))
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid X-Registry-Auth header: %v", err))
	}
	return cfg, nil
}

// EncodeAuth is the X-Registry-Auth header value for cfg.
func EncodeAuth(cfg registry.AuthConfig) (string, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(data), nil
}

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
