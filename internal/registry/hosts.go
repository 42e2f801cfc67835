// Package registry decides how berthd reaches image registries, as dockerd
// does: which hosts may be spoken to over plain HTTP (insecure-registries,
// and loopback by default), which CAs and client certificates each host's
// TLS uses (certs.d/<host:port>/), how credentials become
// go-containerregistry's authenticator, and how registry failures read
// (docker's wording).
package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
)

// DefaultCertsDir holds per-registry TLS files, like docker's
// /etc/docker/certs.d: <dir>/<host:port>/{*.crt,*.cert,*.key}.
const DefaultCertsDir = "/etc/berth/certs.d"

// DefaultHost is the registry of references without a host (Docker Hub).
const DefaultHost = "index.docker.io"

// Hosts holds the settings that decide how each registry host is reached.
type Hosts struct {
	certsDir      string
	insecureNets  []*net.IPNet
	insecureHosts map[string]bool
}

// NewHosts reads the insecure-registries setting (CIDRs or host[:port]
// names) and the certs.d folder ("" for DefaultCertsDir). Loopback
// addresses are always insecure-allowed, as in docker.
func NewHosts(insecure []string, certsDir string) (*Hosts, error) {
	if certsDir == "" {
		certsDir = DefaultCertsDir
	}
	h := &Hosts{certsDir: certsDir, insecureHosts: map[string]bool{}}
	for _, cidr := range []string{"127.0.0.0/8", "::1/128"} {
		_, n, _ := net.ParseCIDR(cidr)
		h.insecureNets = append(h.insecureNets, n)
	}
	for _, entry := range insecure {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if scheme, _, ok := strings.Cut(entry, "://"); ok {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("insecure registry %s should not contain '%s://'", entry, scheme))
		}
		if _, n, err := net.ParseCIDR(entry); err == nil {
			h.insecureNets = append(h.insecureNets, n)
			continue
		}
		h.insecureHosts[strings.ToLower(strings.TrimSuffix(entry, "/"))] = true
	}
	return h, nil
}

// Insecure reports whether host ("name[:port]") may be reached over plain
// HTTP or with an unverified certificate. Names are not resolved (dockerd
// resolves them; berthd never sends a lookup for this): a name is insecure
// only when listed, or when it is "localhost".
func (h *Hosts) Insecure(host string) bool {
	host = strings.ToLower(host)
	if h.insecureHosts[host] {
		return true
	}
	name := host
	if n, _, err := net.SplitHostPort(host); err == nil {
		name = n
	}
	name = strings.Trim(name, "[]")
	if h.insecureHosts[name] || name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	if ip == nil {
		return false
	}
	for _, n := range h.insecureNets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// TLSConfig is the client TLS configuration for host: the system roots
// plus certs.d/<host>/*.crt, client pairs from *.cert and *.key. An
// insecure host's certificate is not verified, unless certs.d gives a CA
// for it: whoever put one there wants it checked (dockerd skips the check
// regardless).
func (h *Hosts) TLSConfig(host string) (*tls.Config, error) {
	cfg, err := h.tlsFiles(host)
	if err != nil {
		return nil, err
	}
	if h.Insecure(host) && cfg.RootCAs == nil {
		cfg.InsecureSkipVerify = true //nolint:gosec // docker's insecure-registries
	}
	return cfg, nil
}

// tlsFiles reads certs.d/<host>/.
func (h *Hosts) tlsFiles(host string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	dir := filepath.Join(h.certsDir, host)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return cfg, nil
		}
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch filepath.Ext(e.Name()) {
		case ".crt":
			if cfg.RootCAs == nil {
				if cfg.RootCAs, err = x509.SystemCertPool(); err != nil || cfg.RootCAs == nil {
					cfg.RootCAs = x509.NewCertPool()
				}
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			if !cfg.RootCAs.AppendCertsFromPEM(data) {
				return nil, fmt.Errorf("no certificates in %s", p)
			}
		case ".cert":
			keyName := strings.TrimSuffix(e.Name(), ".cert") + ".key"
			pair, err := tls.LoadX509KeyPair(p, filepath.Join(dir, keyName))
			if err != nil {
				return nil, fmt.Errorf("missing key %s for client certificate %s: %w", keyName, e.Name(), err)
			}
			cfg.Certificates = append(cfg.Certificates, pair)
		case ".key":
			certName := strings.TrimSuffix(e.Name(), ".key") + ".cert"
			if _, err := os.Stat(filepath.Join(dir, certName)); err != nil {
				return nil, fmt.Errorf("missing client certificate %s for key %s", certName, e.Name())
			}
		}
	}
	return cfg, nil
}
