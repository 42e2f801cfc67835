package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/moby/moby/api/types/registry"
)

// helperMessage is the JSON a docker-credential-* helper reads on "store"
// and writes on "get".
type helperMessage struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// errNotFound is what helpers print when they hold nothing for a server.
const errNotFoundText = "credentials not found in native keychain"

// runHelper runs docker-credential-<name> <action> with stdin and returns
// its standard output.
func runHelper(name, action string, stdin []byte) ([]byte, error) {
	prog := "docker-credential-" + name
	cmd := exec.Command(prog, action)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("error getting credentials - err: %v, out: `%s`", err, strings.TrimSpace(out.String()))
		}
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = strings.TrimSpace(errOut.String())
		}
		return nil, &helperError{msg: msg}
	}
	return out.Bytes(), nil
}

type helperError struct{ msg string }

func (e *helperError) Error() string { return e.msg }

func isNotFound(err error) bool {
	var he *helperError
	return errors.As(err, &he) && strings.Contains(he.msg, errNotFoundText)
}

// helperGet asks helper for server's credentials.
func helperGet(helper, server string) (registry.AuthConfig, bool, error) {
	out, err := runHelper(helper, "get", []byte(server))
	if err != nil {
		if isNotFound(err) {
			return registry.AuthConfig{}, false, nil
		}
		return registry.AuthConfig{}, false, fmt.Errorf("error getting credentials - err: %w", err)
	}
	var m helperMessage
	if err := json.Unmarshal(out, &m); err != nil {
		return registry.AuthConfig{}, false, fmt.Errorf("error getting credentials - err: %w, out: `%s`", err, strings.TrimSpace(string(out)))
	}
	cfg := registry.AuthConfig{ServerAddress: server}
	if m.Username == tokenUsername {
		cfg.IdentityToken = m.Secret
	} else {
		cfg.Username, cfg.Password = m.Username, m.Secret
	}
	return cfg, true, nil
}

// helperStore gives helper cfg's credentials.
func helperStore(helper string, cfg registry.AuthConfig) error {
	m := helperMessage{ServerURL: cfg.ServerAddress, Username: cfg.Username, Secret: cfg.Password}
	if cfg.IdentityToken != "" {
		m.Username, m.Secret = tokenUsername, cfg.IdentityToken
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := runHelper(helper, "store", data); err != nil {
		return fmt.Errorf("error storing credentials - err: %w", err)
	}
	return nil
}

// helperErase asks helper to forget server; false when it held nothing.
func helperErase(helper, server string) (bool, error) {
	if _, err := runHelper(helper, "erase", []byte(server)); err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("error erasing credentials - err: %w", err)
	}
	return true, nil
}
