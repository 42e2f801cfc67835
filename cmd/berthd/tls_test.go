package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/berth-project/berth/internal/testutil"
)

// tlsConfig parses berthd's flags and daemon.json with env as the
// environment and returns the TCP policy, or the error.
func tlsConfig(t *testing.T, args []string, file string, env map[string]string) (tcpSecurity, error) {
	t.Helper()
	old := getenv
	getenv = func(k string) string { return env[k] }
	t.Cleanup(func() { getenv = old })
	c := loadConfig(t, args, file, "")
	// loadConfig keeps its flag set: parse the same flags again for finish
	fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
	defaultConfig().flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c.finish(fs)
	return c.tcpSecurity()
}

func TestTCPSecurity(t *testing.T) {
	certs := testutil.NewCerts(t)
	files := []string{"--tlscacert", certs.CA, "--tlscert", certs.ServerCert, "--tlskey", certs.ServerKey}
	tcp := []string{"-H", "tcp://127.0.0.1:2376"}
	tests := []struct {
		name     string
		args     []string
		file     string
		env      map[string]string
		wantErr  string
		tls      bool
		verified bool
	}{
		{name: "unix only needs nothing", args: nil},
		{name: "plain TCP is refused", args: tcp, wantErr: "refusing to serve the API on http://127.0.0.1:2376 without encryption"},
		{name: "--tls=false asks for it", args: append(tcp, "--tls=false")},
		{name: "--tlsverify=false asks for it", args: append(tcp, "--tlsverify=false")},
		{name: "daemon.json tls false asks for it", args: tcp, file: `{"tls": false}`},
		{name: "--tlsverify", args: append(append(tcp, "--tlsverify"), files...), tls: true, verified: true},
		{name: "--tls alone does not verify", args: append(append(tcp, "--tls"), files...), tls: true},
		{name: "DOCKER_TLS_VERIFY", args: append(tcp, files...), env: map[string]string{"DOCKER_TLS_VERIFY": "1"}, tls: true, verified: true},
		{name: "BERTH_CERT_PATH", args: tcp, env: map[string]string{"BERTH_TLS_VERIFY": "1", "BERTH_CERT_PATH": certs.NoCert},
			wantErr: "could not load TLS configuration for the API"},
		{name: "daemon.json keys", args: tcp, file: `{"tlsverify": true, "tlscacert": "` + certs.CA + `", "tlscert": "` + certs.ServerCert + `", "tlskey": "` + certs.ServerKey + `"}`,
			tls: true, verified: true},
		{name: "missing key", args: append(tcp, "--tlsverify", "--tlscacert", certs.CA, "--tlscert", certs.ServerCert, "--tlskey", certs.Dir+"/nope.pem"),
			wantErr: "could not load TLS configuration for the API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec, err := tlsConfig(t, tt.args, tt.file, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (sec.tls != nil) != tt.tls || sec.verified != tt.verified {
				t.Errorf("tls %v verified %v, want %v %v", sec.tls != nil, sec.verified, tt.tls, tt.verified)
			}
		})
	}
	t.Run("flag and daemon.json both", func(t *testing.T) {
		loadConfig(t, []string{"--tlsverify"}, `{"tlsverify": true}`, "tlsverify: (from flag: true, from file: true)")
	})
}

func TestTCPAddress(t *testing.T) {
	for in, want := range map[string][2]string{
		"":               {"localhost:2375", "localhost:2376"},
		"127.0.0.1":      {"127.0.0.1:2375", "127.0.0.1:2376"},
		":4000":          {"localhost:4000", "localhost:4000"},
		"0.0.0.0:2376/":  {"0.0.0.0:2376", "0.0.0.0:2376"},
		"[::1]:9":        {"[::1]:9", "[::1]:9"},
		"[::1]":          {"[::1]:2375", "[::1]:2376"},
		"10.0.0.1:2/a/b": {"", ""},
	} {
		for i, withTLS := range []bool{false, true} {
			got, err := tcpAddress(in, withTLS)
			if want[i] == "" {
				if err == nil {
					t.Errorf("tcpAddress(%q) = %q, want an error", in, got)
				}
				continue
			}
			if err != nil || got != want[i] {
				t.Errorf("tcpAddress(%q, %v) = %q, %v, want %q", in, withTLS, got, err, want[i])
			}
		}
	}
}

// TestListenTCPVerifies serves TLS with client verification on loopback: a
// client with the CA's certificate gets through, one without or with
// another CA's is refused in the handshake.
func TestListenTCPVerifies(t *testing.T) {
	certs := testutil.NewCerts(t)
	sec, err := tlsConfig(t, []string{"-H", "tcp://127.0.0.1:0", "--tlsverify", "--tlscacert", certs.CA,
		"--tlscert", certs.ServerCert, "--tlskey", certs.ServerKey}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := listenTCP("127.0.0.1:0", sec)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.WriteString(c, "hello")
			}()
		}
	}()
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(certs.CA)
	pool.AppendCertsFromPEM(ca)
	dial := func(cert, key string) error {
		cfg := &tls.Config{RootCAs: pool}
		if cert != "" {
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		c, err := tls.Dial("tcp", l.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(c)
		return err
	}
	if err := dial(certs.ClientCert, certs.ClientKey); err != nil {
		t.Errorf("client with the CA's certificate: %v", err)
	}
	if err := dial("", ""); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("client without a certificate: %v, want certificate required", err)
	}
	if err := dial(certs.Rogue+"/cert.pem", certs.Rogue+"/key.pem"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("client with another CA's certificate: %v, want a certificate error", err)
	}
}

// TestListenTCPWarns: an unverified TCP socket is served only after
// dockerd's warnings.
func TestListenTCPWarns(t *testing.T) {
	old := insecureDelay
	insecureDelay = 0
	defer func() { insecureDelay = old }()
	l, err := listenTCP("127.0.0.1:0", tcpSecurity{plainAsked: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := listenTCP("127.0.0.1:0", tcpSecurity{}); err == nil || !strings.Contains(err.Error(), "--tls=false") {
		t.Errorf("plain TCP not asked for: %v, want the refusal", err)
	}
}
