package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestInsecure(t *testing.T) {
	h, err := NewHosts([]string{"myreg:5000", "10.0.0.0/8", "plainhost"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{
		"127.0.0.1:5000": true, "127.1.2.3": true, "localhost:5000": true, "[::1]:5000": true,
		"myreg:5000": true, "myreg:5001": false, "plainhost:443": true, "10.1.2.3:5000": true,
		"index.docker.io": false, "192.168.1.1:5000": false, "example.com": false,
	}
	for host, want := range tests {
		if got := h.Insecure(host); got != want {
			t.Errorf("Insecure(%q) = %v, want %v", host, got, want)
		}
	}
	if _, err := NewHosts([]string{"http://x:5000"}, ""); err == nil || err.Error() != "insecure registry http://x:5000 should not contain 'http://'" {
		t.Errorf("scheme in insecure registry: %v", err)
	}
}

func TestTLSConfigFromCertsDir(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	dir := t.TempDir()
	h, _ := NewHosts(nil, dir)
	cfg, err := h.TLSConfig(host)
	if err != nil || !cfg.InsecureSkipVerify {
		t.Errorf("loopback without a CA: %+v %v", cfg, err)
	}
	// With a CA for the host, its certificate is checked, loopback or not.
	if err := os.MkdirAll(filepath.Join(dir, host), 0o755); err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, host, "ca.crt"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = h.TLSConfig(host)
	if err != nil || cfg.InsecureSkipVerify || cfg.RootCAs == nil {
		t.Fatalf("with ca.crt: %+v %v", cfg, err)
	}
	ep, err := h.Endpoint(host)
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Ping(context.Background()); err != nil || ep.Scheme() != "https" {
		t.Errorf("ping over verified TLS: %v (%s)", err, ep.Scheme())
	}
	// A CA that did not sign the certificate fails the handshake.
	wrong := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: selfSigned(t)})
	_ = os.WriteFile(filepath.Join(dir, host, "ca.crt"), wrong, 0o644)
	h2, _ := NewHosts(nil, dir)
	cfg, _ = h2.TLSConfig(host)
	ep2 := &Endpoint{Host: host, base: &http.Transport{TLSClientConfig: cfg}}
	ep2.transport = &hostTransport{e: ep2}
	if err := ep2.Ping(context.Background()); err == nil {
		t.Errorf("a wrong CA was accepted")
	}
	// A key without its certificate is refused.
	_ = os.WriteFile(filepath.Join(dir, host, "client.key"), []byte("x"), 0o600)
	if _, err := h.TLSConfig(host); err == nil || !strings.Contains(err.Error(), "missing client certificate client.cert") {
		t.Errorf("lone key: %v", err)
	}
}

func TestEndpointFallsBackToHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	h, _ := NewHosts(nil, t.TempDir())
	ep, _ := h.Endpoint(host)
	if err := ep.Ping(context.Background()); err != nil || ep.Scheme() != "http" || ep.URL("/v2/") != "http://"+host+"/v2/" {
		t.Errorf("ping: %v, scheme %s", err, ep.Scheme())
	}
	srv.Close()
	ep, _ = h.Endpoint(host)
	err := ep.Ping(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), `Get "http://`+host+`/v2/": dial tcp `+host+`: connect: connection refused`) {
		t.Errorf("refused: %v", err)
	}
}

func TestErrorWording(t *testing.T) {
	u, _ := url.Parse("https://r:5000/v2/a/manifests/v1")
	req := &http.Request{Method: http.MethodGet, URL: u}
	mk := func(status int, code, msg string) error {
		e := &transport.Error{StatusCode: status, Request: req}
		if code != "" {
			e.Errors = []transport.Diagnostic{{Code: transport.ErrorCode(code), Message: msg}}
		}
		return e
	}
	ref, _ := reference.ParseNormalizedNamed("r:5000/a:v1")
	tests := []struct {
		err       error
		anonymous bool
		want      string
		notFound  bool
	}{
		{mk(404, "MANIFEST_UNKNOWN", "manifest unknown"), false, "manifest for r:5000/a:v1 not found: manifest unknown: manifest unknown", true},
		{mk(404, "NAME_UNKNOWN", "repository name not known to registry"), false, "repository r:5000/a not found: name unknown: repository name not known to registry", true},
		{mk(403, "DENIED", "requested access to the resource is denied"), false, "pull access denied for r:5000/a, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", true},
		{mk(401, "UNAUTHORIZED", "authentication required"), true, `Get "https://r:5000/v2/a/manifests/v1": no basic auth credentials`, false},
		{mk(401, "UNAUTHORIZED", "authentication required"), false, "unauthorized: authentication required", false},
		{mk(404, "", ""), false, "manifest for r:5000/a:v1 not found: manifest unknown: manifest unknown", true},
		{errors.New("plain"), false, "plain", false},
	}
	for _, tt := range tests {
		got := PullError(tt.err, ref, tt.anonymous)
		if got.Error() != tt.want || errdefs.IsNotFound(got) != tt.notFound {
			t.Errorf("PullError(%v) = %q (not found %v), want %q", tt.err, got, errdefs.IsNotFound(got), tt.want)
		}
	}
}

// selfSigned is the DER of a new self-signed CA certificate.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
