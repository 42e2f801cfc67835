package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// RegistryBinary is where Debian's docker-registry package installs the
// reference registry (distribution 2.8).
const RegistryBinary = "/usr/bin/docker-registry"

// Registry is a private reference registry on 127.0.0.1 with filesystem
// storage, started for one test (or benchmark) and removed after it.
type Registry struct {
	Host    string // "127.0.0.1:<port>"
	Dir     string // everything of the registry: config, storage, certificates
	Storage string // the filesystem storage root
	CACert  string // PEM of the CA that signed the registry's certificate (TLS only)
	User    string // htpasswd user ("" without auth)
	Pass    string

	tls bool
	cmd *exec.Cmd
	log *os.File
}

// RegistryOption configures StartRegistry.
type RegistryOption func(*Registry)

// WithRegistryTLS serves HTTPS with a certificate from a CA made for the
// registry alone.
func WithRegistryTLS() RegistryOption { return func(r *Registry) { r.tls = true } }

// WithRegistryAuth requires htpasswd basic authentication as user/pass.
func WithRegistryAuth(user, pass string) RegistryOption {
	return func(r *Registry) { r.User, r.Pass = user, pass }
}

// RequiresRegistry skips t when docker-registry is not installed.
func RequiresRegistry(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(RegistryBinary); err != nil {
		t.Skipf("skipping: %s is not installed (apt-get install docker-registry)", RegistryBinary)
	}
}

// StartRegistry starts a registry for t; it is stopped and its folder
// removed when t ends.
func StartRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	RequiresRegistry(t)
	r, err := NewRegistry(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if data, err := os.ReadFile(filepath.Join(r.Dir, "registry.log")); err == nil {
				lines := strings.Split(strings.TrimSpace(string(data)), "\n")
				if len(lines) > 30 {
					lines = lines[len(lines)-30:]
				}
				t.Logf("registry log (last lines):\n%s", strings.Join(lines, "\n"))
			}
		}
		r.Close()
	})
	return r
}

// NewRegistry starts a registry; the caller must Close it.
func NewRegistry(opts ...RegistryOption) (*Registry, error) {
	dir, err := os.MkdirTemp("", "berth-registry-")
	if err != nil {
		return nil, err
	}
	r := &Registry{Dir: dir, Storage: filepath.Join(dir, "storage")}
	for _, o := range opts {
		o(r)
	}
	if err := r.start(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Registry) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: berth-test-secret
`, r.Storage, r.Host)
	if r.tls {
		crt, key, err := r.makeCerts()
		if err != nil {
			return err
		}
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", crt, key)
	}
	if r.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(r.Pass), bcrypt.MinCost)
		if err != nil {
			return err
		}
		htpasswd := filepath.Join(r.Dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(r.User+":"+string(hash)+"\n"), 0o600); err != nil {
			return err
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(r.Dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	r.log, err = os.Create(filepath.Join(r.Dir, "registry.log"))
	if err != nil {
		return err
	}
	r.cmd = exec.Command(RegistryBinary, "serve", cfgPath)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start docker-registry: %w", err)
	}
	return r.waitReady(15 * time.Second)
}

// URL is the registry's base address (scheme://host).
func (r *Registry) URL() string {
	if r.tls {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// HTTPClient is a client that trusts the registry's CA.
func (r *Registry) HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	if r.tls {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(r.CACert))
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

func (r *Registry) waitReady(timeout time.Duration) error {
	hc := r.HTTPClient()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if r.cmd.ProcessState != nil {
			break
		}
		resp, err := hc.Get(r.URL() + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			err = fmt.Errorf("/v2/ answered %s", resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	data, _ := os.ReadFile(filepath.Join(r.Dir, "registry.log"))
	return fmt.Errorf("docker-registry did not come up on %s: %v\n%s", r.Host, last, data)
}

// CertsDir writes a certs.d folder trusting the registry's CA
// (<dir>/<host>/ca.crt) and returns it, for berthd's --certs-dir.
func (r *Registry) CertsDir() (string, error) {
	dir := filepath.Join(r.Dir, "certs.d")
	if err := os.MkdirAll(filepath.Join(dir, r.Host), 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, r.Host, "ca.crt"), []byte(r.CACert), 0o644)
}

// BlobPath is where the registry stores a blob's data ("sha256:<hex>").
func (r *Registry) BlobPath(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.Storage, "docker", "registry", "v2", "blobs", "sha256", hex[:2], hex, "data")
}

// Close stops the registry and removes its folder.
func (r *Registry) Close() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
	if r.log != nil {
		r.log.Close()
	}
	_ = os.RemoveAll(r.Dir)
}

// makeCerts creates a CA and a server certificate for 127.0.0.1.
func (r *Registry) makeCerts() (crtPath, keyPath string, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "berth test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	r.CACert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	crtPath, keyPath = filepath.Join(r.Dir, "server.crt"), filepath.Join(r.Dir, "server.key")
	if err := os.WriteFile(crtPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return crtPath, keyPath, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("no TCP port")
	}
	return addr.Port, nil
}
