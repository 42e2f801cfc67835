package main

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/berth-project/berth/internal/apitls"
)

// tlsFlags are dockerd's TLS flags. The certificate files default to
// ca.pem, cert.pem and key.pem in $BERTH_CERT_PATH, else
// $DOCKER_CERT_PATH, else ~/.berth; --tlsverify defaults to true when
// $BERTH_TLS_VERIFY or $DOCKER_TLS_VERIFY is set.
func (c *config) tlsFlags(fs *pflag.FlagSet) {
	ca, cert, key := apitls.DefaultFiles(apitls.CertPath(getenv, apitls.HomeCertPath()))
	fs.Bool("tls", false, "Use TLS; implied by --tlsverify")
	fs.Bool("tlsverify", apitls.VerifyFromEnv(getenv), "Use TLS and verify the remote")
	fs.StringVar(&c.TLSCACert, "tlscacert", ca, "Trust certs signed only by this CA")
	fs.StringVar(&c.TLSCert, "tlscert", cert, "Path to TLS certificate file")
	fs.StringVar(&c.TLSKey, "tlskey", key, "Path to TLS key file")
}

// finishTLS records the TLS switches that were set: by flag (which
// daemon.json may not repeat), else by daemon.json, else --tlsverify from
// the environment.
func (c *config) finishTLS(fs *pflag.FlagSet) {
	for name, field := range map[string]**bool{"tls": &c.TLS, "tlsverify": &c.TLSVerify} {
		if fs.Changed(name) {
			v, _ := fs.GetBool(name)
			*field = &v
		}
	}
	if c.TLSVerify == nil && apitls.VerifyFromEnv(getenv) {
		v := true
		c.TLSVerify = &v
	}
}

// tcpSecurity is how TCP listeners are served.
type tcpSecurity struct {
	tls      *tls.Config // nil: plain HTTP
	verified bool        // client certificates are required and verified
	// plainAsked: --tls=false or --tlsverify=false was given, the only
	// way to get an unauthenticated TCP socket.
	plainAsked bool
}

// tcpSecurity builds the TLS configuration when a TCP host is served.
func (c *config) tcpSecurity() (tcpSecurity, error) {
	verify := c.TLSVerify != nil && *c.TLSVerify
	sec := tcpSecurity{
		verified:   verify,
		plainAsked: c.TLS != nil && !*c.TLS || c.TLSVerify != nil && !*c.TLSVerify,
	}
	useTLS := verify || c.TLS != nil && *c.TLS
	tcp := c.tcpHosts()
	if len(tcp) == 0 {
		return sec, nil
	}
	if !useTLS {
		if !sec.plainAsked {
			addr, err := tcpAddress(tcp[0], false)
			if err != nil {
				return sec, err
			}
			return sec, errPlainTCP(addr)
		}
		return sec, nil
	}
	cfg, err := apitls.Server(apitls.Options{CAFile: c.TLSCACert, CertFile: c.TLSCert, KeyFile: c.TLSKey, Verify: verify})
	if err != nil {
		return sec, fmt.Errorf("could not load TLS configuration for the API: %w", err)
	}
	sec.tls = cfg
	return sec, nil
}

// tcpHosts are the -H addresses served over TCP, without tcp://.
func (c *config) tcpHosts() []string {
	var addrs []string
	for _, h := range c.Hosts {
		if addr, ok := strings.CutPrefix(h, "tcp://"); ok {
			addrs = append(addrs, addr)
		}
	}
	return addrs
}
