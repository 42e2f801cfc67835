package apitls

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

func TestEnvironment(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := CertPath(getenv, "/home"); got != "/home" || VerifyFromEnv(getenv) {
		t.Errorf("empty environment: %q %v", got, VerifyFromEnv(getenv))
	}
	env[DockerCertPathEnv], env[DockerVerifyEnv] = "/docker", "0" // docker's rule: any value
	if got := CertPath(getenv, "/home"); got != "/docker" || !VerifyFromEnv(getenv) {
		t.Errorf("docker's variables: %q %v", got, VerifyFromEnv(getenv))
	}
	env[BerthCertPathEnv] = "/berth"
	if got := CertPath(getenv, "/home"); got != "/berth" {
		t.Errorf("BERTH_CERT_PATH does not win: %q", got)
	}
}

func TestServer(t *testing.T) {
	certs := testutil.NewCerts(t)
	cfg, err := Server(Options{CAFile: certs.CA, CertFile: certs.ServerCert, KeyFile: certs.ServerKey, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil || cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("verifying server: auth %v CAs %v min %x", cfg.ClientAuth, cfg.ClientCAs != nil, cfg.MinVersion)
	}
	cfg, err = Server(Options{CertFile: certs.ServerCert, KeyFile: certs.ServerKey})
	if err != nil || cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("--tls alone: %v %v", cfg, err)
	}
	for _, o := range []Options{
		{Verify: true, CertFile: certs.ServerCert, KeyFile: certs.ServerKey},
		{CAFile: certs.CA},
		{Verify: true, CAFile: certs.Dir + "/none.pem", CertFile: certs.ServerCert, KeyFile: certs.ServerKey},
	} {
		if _, err := Server(o); err == nil {
			t.Errorf("Server(%+v) accepted", o)
		}
	}
	if _, err := Client(Options{Verify: true, CAFile: certs.Dir + "/none.pem"}); err == nil || !strings.Contains(err.Error(), "none.pem") {
		t.Errorf("client with a missing CA: %v", err)
	}
}
