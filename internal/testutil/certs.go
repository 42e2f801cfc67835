package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs is a throwaway PKI for the API's TLS, made with crypto/x509 for
// 127.0.0.1 only. Dir holds, with docker's names, what a client points
// DOCKER_CERT_PATH at (ca.pem, cert.pem, key.pem) and the server's pair
// (server-cert.pem, server-key.pem). Rogue is a client folder whose ca.pem
// is the real CA (it trusts the daemon) but whose cert.pem is signed by
// another CA; NoCert is one with ca.pem alone.
type Certs struct {
	Dir        string
	CA         string // ca.pem
	ServerCert string
	ServerKey  string
	ClientCert string // cert.pem, signed by CA
	ClientKey  string
	Rogue      string // folder: ca.pem (the real CA), cert.pem/key.pem signed by another CA
	NoCert     string // folder: ca.pem only
}

// NewCerts writes a fresh PKI under a temporary folder of t.
func NewCerts(t testing.TB) *Certs {
	t.Helper()
	dir := t.TempDir()
	c := &Certs{
		Dir:        dir,
		CA:         filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server-cert.pem"),
		ServerKey:  filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "cert.pem"),
		ClientKey:  filepath.Join(dir, "key.pem"),
		Rogue:      filepath.Join(dir, "rogue"),
		NoCert:     filepath.Join(dir, "nocert"),
	}
	ca, caKey := newCA(t, "berth test CA")
	rogueCA, rogueKey := newCA(t, "rogue CA")
	writePEM(t, c.CA, "CERTIFICATE", ca.Raw)
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	issue(t, server, ca, caKey, c.ServerCert, c.ServerKey)
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	issue(t, client, ca, caKey, c.ClientCert, c.ClientKey)
	for _, d := range []string{c.Rogue, c.NoCert} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		writePEM(t, filepath.Join(d, "ca.pem"), "CERTIFICATE", ca.Raw)
	}
	rogue := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	issue(t, rogue, rogueCA, rogueKey, filepath.Join(c.Rogue, "cert.pem"), filepath.Join(c.Rogue, "key.pem"))
	return c
}

// newCA makes a self-signed CA certificate.
func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// issue signs tmpl with the CA and writes the certificate and its key.
func issue(t testing.TB, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, certPath, keyPath string) {
	t.Helper()
	key := newKey(t)
	tmpl.SerialNumber = serial(t)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certPath, "CERTIFICATE", der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// CLIEnv is the clients' environment without any host or TLS selection
// (no DOCKER_* nor BERTH_HOST), with a private docker config folder, for
// tests that aim a CLI at the daemon some other way than its socket.
func (d *Daemon) CLIEnv() []string { return d.cliEnv() }
