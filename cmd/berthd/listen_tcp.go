package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// dockerd's default API ports.
const (
	defaultTCPPort = "2375"
	defaultTLSPort = "2376"
)

// insecureDelay is how long berthd pauses after warning that its TCP socket
// does not verify clients, as dockerd does (tests shorten it).
var insecureDelay = time.Second

// tcpKeepAlive probes idle TCP connections, so that a client that vanished
// from a hijacked stream the daemon only reads from is noticed (see
// api.watchHangup).
var tcpKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// errPlainTCP refuses an unauthenticated TCP socket nobody asked for.
func errPlainTCP(host string) error {
	return fmt.Errorf("refusing to serve the API on http://%s without encryption: access to the API is root access on this host; "+
		"use --tlsverify with --tlscacert, --tlscert and --tlskey, or say '--tls=false' or '--tlsverify=false' to accept it", host)
}

// listenTCP serves the API on addr (host:port; dockerd's defaults are
// localhost and 2376 with TLS, 2375 without). Without --tlsverify it warns
// as dockerd does and pauses; plain HTTP is only served when asked for
// with --tls=false or --tlsverify=false (dockerd 20.10 merely slowed down
// by 15 seconds, later releases refuse).
func listenTCP(addr string, sec tcpSecurity) (net.Listener, error) {
	addr, err := tcpAddress(addr, sec.tls != nil)
	if err != nil {
		return nil, err
	}
	if sec.tls == nil && !sec.plainAsked {
		return nil, errPlainTCP(addr)
	}
	if !sec.verified {
		host := "tcp://" + addr
		slog.Warn("Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.", "host", host)
		slog.Warn("Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!", "host", host)
		time.Sleep(insecureDelay)
	}
	lc := net.ListenConfig{KeepAliveConfig: tcpKeepAlive}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on tcp://%s: %w", addr, err)
	}
	if sec.tls != nil {
		return tls.NewListener(l, sec.tls), nil
	}
	return l, nil
}

// tcpAddress completes a -H tcp:// address with dockerd's default host and
// port.
func tcpAddress(addr string, withTLS bool) (string, error) {
	addr = strings.TrimSuffix(addr, "/")
	if strings.Contains(addr, "/") {
		return "", fmt.Errorf("invalid bind address %q: no path allowed", addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// no port
		host, port = strings.Trim(addr, "[]"), ""
	}
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = defaultTCPPort
		if withTLS {
			port = defaultTLSPort
		}
	}
	return net.JoinHostPort(host, port), nil
}
