package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/spf13/pflag"

	"github.com/berth-project/berth/internal/apitls"
	"github.com/berth-project/berth/internal/registry/credentials"
)

// tlsOptions are docker's global TLS flags.
type tlsOptions struct {
	flags         *pflag.FlagSet // the root's, to tell a flag given from a default
	tls, verify   bool
	ca, cert, key string
}

// addTLSFlags adds --tls, --tlsverify, --tlscacert, --tlscert and --tlskey
// with docker's defaults: the files are ca.pem, cert.pem and key.pem in
// $BERTH_CERT_PATH, else $DOCKER_CERT_PATH, else the config folder
// ($BERTH_CONFIG, else ~/.berth); --tlsverify is on when
// $BERTH_TLS_VERIFY or $DOCKER_TLS_VERIFY is set.
func (o *tlsOptions) addFlags(flags *pflag.FlagSet) {
	o.flags = flags
	dir := os.Getenv(credentials.BerthConfigEnv)
	if dir == "" {
		dir = apitls.HomeCertPath()
	}
	ca, cert, key := apitls.DefaultFiles(apitls.CertPath(os.Getenv, dir))
	flags.BoolVar(&o.tls, "tls", false, "Use TLS; implied by --tlsverify")
	flags.BoolVar(&o.verify, "tlsverify", apitls.VerifyFromEnv(os.Getenv), "Use TLS and verify the remote")
	flags.StringVar(&o.ca, "tlscacert", ca, "Trust certs signed only by this CA")
	flags.StringVar(&o.cert, "tlscert", cert, "Path to TLS certificate file")
	flags.StringVar(&o.key, "tlskey", key, "Path to TLS key file")
}

// enabled tells whether TLS is asked for: --tls, or --tlsverify given at
// all (even =false, as docker has it), or verification from the
// environment.
func (o *tlsOptions) enabled() bool {
	return o.tls || o.verify || o.flags != nil && o.flags.Changed("tlsverify")
}

// clientOpts are the API client's options for host: over TCP with TLS, an
// HTTP client verifying the daemon (--tlsverify) and presenting the client
// certificate when there is one (a default file that does not exist is
// left out, as docker does).
func (o *tlsOptions) clientOpts(host string) ([]client.Opt, error) {
	if !o.enabled() || !strings.HasPrefix(host, "tcp://") {
		return nil, nil
	}
	opts := apitls.Options{CAFile: o.ca, CertFile: o.cert, KeyFile: o.key, Verify: o.verify}
	for _, f := range []struct {
		name string
		path *string
	}{{"tlscert", &opts.CertFile}, {"tlskey", &opts.KeyFile}} {
		if !o.flags.Changed(f.name) {
			if _, err := os.Stat(*f.path); os.IsNotExist(err) {
				*f.path = ""
			}
		}
	}
	cfg, err := apitls.Client(opts)
	if err != nil {
		return nil, fmt.Errorf("could not load TLS configuration: %w", err)
	}
	hc := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: cfg,
			// as the API client's own transport: idle connections do not pile up
			MaxIdleConns:    6,
			IdleConnTimeout: 30 * time.Second,
		},
		CheckRedirect: client.CheckRedirect,
	}
	return []client.Opt{client.WithHTTPClient(hc)}, nil
}

// args are the TLS flags given to berth, for a companion program that
// parses berth's global flags (berth-build).
func (o *tlsOptions) args() []string {
	var args []string
	if o.flags == nil {
		return nil
	}
	o.flags.Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "tls", "tlsverify", "tlscacert", "tlscert", "tlskey":
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// env is the TLS choice as docker's variables, for Compose (whose docker
// client reads them): DOCKER_TLS_VERIFY or DOCKER_TLS, and DOCKER_CERT_PATH
// when the three files are ca.pem, cert.pem and key.pem of one folder.
// Like the API client, only a TCP host uses TLS.
func (o *tlsOptions) env(host string) ([]string, error) {
	if !o.enabled() || !strings.HasPrefix(host, "tcp://") {
		return nil, nil
	}
	dir := filepath.Dir(o.ca)
	ca, cert, key := apitls.DefaultFiles(dir)
	if o.ca != ca || o.cert != cert || o.key != key {
		return nil, fmt.Errorf("compose over TLS needs %s, %s and %s in one folder (DOCKER_CERT_PATH)", apitls.CAFile, apitls.CertFile, apitls.KeyFile)
	}
	env := []string{"DOCKER_CERT_PATH=" + dir, "DOCKER_TLS=1"}
	if o.verify {
		env = append(env, "DOCKER_TLS_VERIFY=1")
	}
	return env, nil
}
