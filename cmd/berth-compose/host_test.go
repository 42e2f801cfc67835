package main

import (
	"testing"

	"github.com/berth-project/berth/internal/cli"
)

func TestDefaultHostIsBerths(t *testing.T) {
	if defaultHost != cli.DefaultHost {
		t.Fatalf("berth-compose defaults to %q, berth to %q", defaultHost, cli.DefaultHost)
	}
}

func TestEngineHost(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		host string
		ok   bool
	}{
		{"default", nil, []string{"up", "-d"}, defaultHost, true},
		{"berth -H", map[string]string{"BERTH_HOST": "unix:///b.sock", "DOCKER_HOST": "unix:///d.sock"}, []string{"ps"}, "unix:///b.sock", true},
		{"DOCKER_HOST", map[string]string{"DOCKER_HOST": "unix:///d.sock"}, []string{"ps"}, "", false},
		{"DOCKER_CONTEXT", map[string]string{"DOCKER_CONTEXT": "other"}, []string{"ps"}, "", false},
		{"-H", nil, []string{"-H", "unix:///x.sock", "ps"}, "", false},
		{"--host=", nil, []string{"--host=unix:///x.sock", "ps"}, "", false},
		{"--context", nil, []string{"--log-level", "debug", "--context", "c", "ps"}, "", false},
		{"a command's own -H", nil, []string{"exec", "web", "sh", "-c", "-H"}, defaultHost, true},
		{"a flag's value", nil, []string{"--log-level", "-H", "ps"}, defaultHost, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, ok := engineHost(tc.args, func(k string) string { return tc.env[k] })
			if host != tc.host || ok != tc.ok {
				t.Fatalf("engineHost(%q) = %q, %v; want %q, %v", tc.args, host, ok, tc.host, tc.ok)
			}
		})
	}
}
