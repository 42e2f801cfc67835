package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/berth-project/berth/internal/testutil"
)

// parseTLS parses berth's TLS flags from args with a clean environment
// plus env.
func parseTLS(t *testing.T, env map[string]string, args ...string) *tlsOptions {
	t.Helper()
	for _, k := range []string{"BERTH_TLS_VERIFY", "DOCKER_TLS_VERIFY", "BERTH_CERT_PATH", "DOCKER_CERT_PATH", "BERTH_CONFIG"} {
		t.Setenv(k, env[k])
	}
	o := &tlsOptions{}
	fs := pflag.NewFlagSet("berth", pflag.ContinueOnError)
	o.addFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestTLSOptions(t *testing.T) {
	certs := testutil.NewCerts(t)
	host := "tcp://127.0.0.1:2376"
	t.Run("off by default", func(t *testing.T) {
		o := parseTLS(t, nil)
		if opts, err := o.clientOpts(host); err != nil || opts != nil || o.enabled() {
			t.Errorf("TLS without asking: %v %v", opts, err)
		}
	})
	t.Run("DOCKER_CERT_PATH and DOCKER_TLS_VERIFY", func(t *testing.T) {
		o := parseTLS(t, map[string]string{"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs.Dir})
		if !o.verify || o.ca != certs.CA || o.cert != certs.ClientCert || o.key != certs.ClientKey {
			t.Errorf("from docker's variables: %+v", o)
		}
		if opts, err := o.clientOpts(host); err != nil || len(opts) != 1 {
			t.Errorf("client options: %v %v", opts, err)
		}
	})
	t.Run("BERTH_ wins over DOCKER_", func(t *testing.T) {
		o := parseTLS(t, map[string]string{"BERTH_CERT_PATH": certs.Rogue, "DOCKER_CERT_PATH": certs.Dir})
		if o.ca != filepath.Join(certs.Rogue, "ca.pem") || o.enabled() {
			t.Errorf("BERTH_CERT_PATH: %+v", o)
		}
	})
	t.Run("a default certificate that does not exist is left out", func(t *testing.T) {
		o := parseTLS(t, map[string]string{"BERTH_CERT_PATH": certs.NoCert}, "--tlsverify")
		if opts, err := o.clientOpts(host); err != nil || len(opts) != 1 {
			t.Errorf("CA only: %v %v", opts, err)
		}
	})
	t.Run("a certificate named by flag must exist", func(t *testing.T) {
		o := parseTLS(t, nil, "--tlsverify", "--tlscacert", certs.CA, "--tlscert", certs.Dir+"/nope.pem", "--tlskey", certs.ClientKey)
		if _, err := o.clientOpts(host); err == nil || !strings.Contains(err.Error(), "could not load TLS configuration") {
			t.Errorf("missing --tlscert: %v", err)
		}
	})
	t.Run("--tlsverify=false still uses TLS", func(t *testing.T) {
		o := parseTLS(t, nil, "--tlsverify=false")
		if !o.enabled() || o.verify {
			t.Errorf("--tlsverify=false: enabled %v verify %v", o.enabled(), o.verify)
		}
	})
	t.Run("unix sockets stay plain", func(t *testing.T) {
		o := parseTLS(t, map[string]string{"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs.Dir})
		if opts, err := o.clientOpts("unix:///run/berth/berth.sock"); err != nil || opts != nil {
			t.Errorf("unix host: %v %v", opts, err)
		}
	})
	t.Run("companion programs", func(t *testing.T) {
		o := parseTLS(t, nil, "--tlsverify", "--tlscacert", certs.CA, "--tlscert", certs.ClientCert, "--tlskey", certs.ClientKey)
		want := []string{"--tlscacert=" + certs.CA, "--tlscert=" + certs.ClientCert, "--tlskey=" + certs.ClientKey, "--tlsverify=true"}
		if got := o.args(); !slices.Equal(got, want) {
			t.Errorf("args %q, want %q", got, want)
		}
		env, err := o.env(host)
		if err != nil || !slices.Equal(env, []string{"DOCKER_CERT_PATH=" + certs.Dir, "DOCKER_TLS=1", "DOCKER_TLS_VERIFY=1"}) {
			t.Errorf("compose env %q %v", env, err)
		}
		o = parseTLS(t, nil, "--tls", "--tlscacert", certs.CA, "--tlscert", certs.Rogue+"/cert.pem")
		if _, err := o.env(host); err == nil {
			t.Error("compose env from files of several folders")
		}
	})
}
