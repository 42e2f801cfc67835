// Package apitls builds the TLS configurations of the Engine API over TCP,
// docker's way: berthd presents a server certificate and, with --tlsverify,
// requires client certificates signed by the given CA; the CLI verifies
// the daemon against that CA and presents its own certificate. Default
// file names and environment variables are docker's, with berth's own
// BERTH_ names taking precedence.
package apitls

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"

	"github.com/docker/go-connections/tlsconfig"
)

// The default file names inside a certificate folder, as docker names them.
const (
	CAFile   = "ca.pem"
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// Environment variables: the certificate folder and whether to verify.
// The BERTH_ name wins over docker's when both are set.
const (
	BerthCertPathEnv  = "BERTH_CERT_PATH"
	DockerCertPathEnv = "DOCKER_CERT_PATH"
	BerthVerifyEnv    = "BERTH_TLS_VERIFY"
	DockerVerifyEnv   = "DOCKER_TLS_VERIFY"
)

// Options are the files of one side of a TLS connection.
type Options struct {
	CAFile   string // the CA that signs the peer's certificate
	CertFile string // our certificate
	KeyFile  string // its private key
	// Verify checks the peer: the server requires and verifies client
	// certificates, the client verifies the server's against CAFile.
	Verify bool
}

// Server is berthd's TLS configuration: its certificate and key, and with
// Verify a client certificate signed by CAFile is required (only that CA
// is trusted, as dockerd's ExclusiveRootPools).
func Server(o Options) (*tls.Config, error) {
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("TLS needs a server certificate and key (--tlscert and --tlskey)")
	}
	opts := tlsconfig.Options{
		CertFile:           o.CertFile,
		KeyFile:            o.KeyFile,
		ExclusiveRootPools: true,
		MinVersion:         tls.VersionTLS12,
		ClientAuth:         tls.NoClientCert,
	}
	if o.Verify {
		if o.CAFile == "" {
			return nil, errors.New("--tlsverify needs the CA that signs client certificates (--tlscacert)")
		}
		opts.CAFile = o.CAFile
		opts.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tlsconfig.Server(opts)
}

// Client is the CLI's TLS configuration: with Verify the daemon's
// certificate must be signed by CAFile, else it is not checked (docker's
// --tls); the client certificate is sent when CertFile and KeyFile are
// set.
func Client(o Options) (*tls.Config, error) {
	opts := tlsconfig.Options{
		CertFile:           o.CertFile,
		KeyFile:            o.KeyFile,
		InsecureSkipVerify: !o.Verify,
		ExclusiveRootPools: true,
		MinVersion:         tls.VersionTLS12,
	}
	if o.Verify {
		opts.CAFile = o.CAFile
	}
	return tlsconfig.Client(opts)
}

// CertPath is the folder holding the default ca.pem, cert.pem and key.pem:
// $BERTH_CERT_PATH, else $DOCKER_CERT_PATH, else fallback.
func CertPath(getenv func(string) string, fallback string) string {
	for _, name := range []string{BerthCertPathEnv, DockerCertPathEnv} {
		if dir := getenv(name); dir != "" {
			return dir
		}
	}
	return fallback
}

// VerifyFromEnv tells whether $BERTH_TLS_VERIFY or $DOCKER_TLS_VERIFY is
// set to anything non-empty (docker's rule: even "0" turns it on).
func VerifyFromEnv(getenv func(string) string) bool {
	return getenv(BerthVerifyEnv) != "" || getenv(DockerVerifyEnv) != ""
}

// DefaultFiles are the three files in dir, by their default names.
func DefaultFiles(dir string) (ca, cert, key string) {
	return filepath.Join(dir, CAFile), filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
}

// HomeCertPath is ~/.berth, the certificate folder when no variable names
// one; "" when the home folder is unknown.
func HomeCertPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".berth")
}
