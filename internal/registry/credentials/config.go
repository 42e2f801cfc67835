// Package credentials keeps registry credentials for the berth CLI the way
// the docker CLI does: in a config.json ("auths" entries holding base64
// "user:password", or an identity token), or in an external
// docker-credential-<name> helper named by "credsStore" or, per registry,
// "credHelpers". Berth's own file (~/.berth/config.json) comes first;
// docker's (~/.docker/config.json) is read when berth's has no entry.
package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/registry"

	"github.com/berth-project/berth/internal/atomicfile"
)

// IndexServer is the key docker uses for Docker Hub's credentials.
const IndexServer = "https://index.docker.io/v1/"

// tokenUsername marks an identity token stored by a credential helper.
const tokenUsername = "<token>"

// File is one config.json. Keys berth does not use are kept as they were.
type File struct {
	Path string

	raw         map[string]json.RawMessage
	Auths       map[string]authEntry
	CredsStore  string
	CredHelpers map[string]string
	// LoggedOut lists the hosts `berth logout` left (berth's file only):
	// Lookup does not fall back to docker's file for them, so a logout
	// holds whatever docker's own login says.
	LoggedOut []string
}

type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	// Older files may hold the parts in clear.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Load reads path; a missing file is an empty configuration.
func Load(path string) (*File, error) {
	f := &File{Path: path, raw: map[string]json.RawMessage{}, Auths: map[string]authEntry{}, CredHelpers: map[string]string{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(data, &f.raw); err != nil {
		return nil, fmt.Errorf("loading config file %s: %w", path, err)
	}
	for key, dst := range map[string]any{"auths": &f.Auths, "credsStore": &f.CredsStore, "credHelpers": &f.CredHelpers, loggedOutKey: &f.LoggedOut} {
		if v, ok := f.raw[key]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("loading config file %s: %s: %w", path, key, err)
			}
		}
	}
	if f.Auths == nil {
		f.Auths = map[string]authEntry{}
	}
	return f, nil
}

// Save writes the file atomically, readable by its owner only.
func (f *File) Save() error {
	auths, err := json.Marshal(f.Auths)
	if err != nil {
		return err
	}
	f.raw["auths"] = auths
	delete(f.raw, loggedOutKey)
	if len(f.LoggedOut) > 0 {
		if f.raw[loggedOutKey], err = json.Marshal(f.LoggedOut); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(f.raw, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(f.Path, append(data, '\n'), 0o600)
}

// helperFor is the credential helper that holds server's credentials, "".
func (f *File) helperFor(server string) string {
	if h, ok := f.CredHelpers[Hostname(server)]; ok {
		return h
	}
	if h, ok := f.CredHelpers[server]; ok {
		return h
	}
	return f.CredsStore
}

// entry finds server's auths entry, matching docker's rules: the exact key,
// else any key with the same host name (with or without scheme and path).
func (f *File) entry(server string) (string, authEntry, bool) {
	if e, ok := f.Auths[server]; ok {
		return server, e, true
	}
	host := Hostname(server)
	for k, e := range f.Auths {
		if Hostname(k) == host {
			return k, e, true
		}
	}
	return "", authEntry{}, false
}

// Get returns server's credentials and whether any were found.
func (f *File) Get(server string) (registry.AuthConfig, bool, error) {
	if h := f.helperFor(server); h != "" {
		return helperGet(h, server)
	}
	key, e, ok := f.entry(server)
	if !ok {
		return registry.AuthConfig{}, false, nil
	}
	cfg := registry.AuthConfig{ServerAddress: key, IdentityToken: e.IdentityToken, Username: e.Username, Password: e.Password}
	if e.Auth != "" {
		data, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return cfg, false, fmt.Errorf("invalid auth configuration file %s: %w", f.Path, err)
		}
		user, pass, ok := strings.Cut(string(data), ":")
		if !ok {
			return cfg, false, fmt.Errorf("invalid auth configuration file %s", f.Path)
		}
		cfg.Username, cfg.Password = user, strings.Trim(pass, "\x00")
	}
	return cfg, true, nil
}

// Store records cfg for cfg.ServerAddress, in the helper when one is
// configured, else in the file (base64 "user:password"), and saves the file.
func (f *File) Store(cfg registry.AuthConfig) error {
	server := cfg.ServerAddress
	if h := f.helperFor(server); h != "" {
		return helperStore(h, cfg)
	}
	if key, _, ok := f.entry(server); ok {
		delete(f.Auths, key)
	}
	e := authEntry{IdentityToken: cfg.IdentityToken}
	if cfg.Username != "" || cfg.Password != "" {
		e.Auth = base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password))
	}
	f.Auths[server] = e
	f.LoggedOut = slices.DeleteFunc(f.LoggedOut, func(h string) bool { return h == Hostname(server) })
	return f.Save()
}

// loggedOutKey is berth's own config.json key for LoggedOut.
const loggedOutKey = "loggedOut"

// IsLoggedOut reports whether `berth logout` left server.
func (f *File) IsLoggedOut(server string) bool {
	return slices.Contains(f.LoggedOut, Hostname(server))
}

// MarkLoggedOut records that berth logged out of server and saves the
// file; a later Store (login) clears the mark.
func (f *File) MarkLoggedOut(server string) error {
	if !f.IsLoggedOut(server) {
		f.LoggedOut = append(f.LoggedOut, Hostname(server))
	}
	return f.Save()
}

// Erase removes server's credentials and reports whether there were any.
func (f *File) Erase(server string) (bool, error) {
	found := false
	if h := f.helperFor(server); h != "" {
		ok, err := helperErase(h, server)
		if err != nil {
			return false, err
		}
		found = ok
	}
	if key, _, ok := f.entry(server); ok {
		delete(f.Auths, key)
		found = true
		if err := f.Save(); err != nil {
			return found, err
		}
	}
	return found, nil
}

// UsesHelper reports whether server's credentials go to a helper.
func (f *File) UsesHelper(server string) bool { return f.helperFor(server) != "" }

// Hostname reduces a server address ("https://host:5000/v1/") to the
// host[:port] docker compares them by.
func Hostname(server string) string {
	s := server
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(s)
}
