package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-project/berth/internal/build"
	"github.com/berth-project/berth/internal/userns"
	"github.com/spf13/pflag"
)

var execLookPath = exec.LookPath

// getenv reads the environment (tests replace it).
var getenv = os.Getenv

// config is berthd's configuration: flags mirror dockerd's and daemon.json
// holds the same keys.
type config struct {
	Hosts              []string          `json:"hosts"`
	DataRoot           string            `json:"data-root"`
	ExecRoot           string            `json:"exec-root"`
	Runtime            string            `json:"default-runtime"`
	LogLevel           string            `json:"log-level"`
	Debug              bool              `json:"debug"` // -D: debug logs and pprof on <exec-root>/debug.sock
	Pidfile            string            `json:"pidfile"`
	Bridge             string            `json:"bridge"`
	BIP                string            `json:"bip"`
	IPv6               bool              `json:"ipv6"`
	FixedCIDRv6        string            `json:"fixed-cidr-v6"`
	InsecureRegistries []string          `json:"insecure-registries"`
	FirewallTable      string            `json:"firewall-table"`
	CertsDir           string            `json:"certs-dir"` // berth's own: docker hard-codes /etc/docker/certs.d
	Group              string            `json:"group"`
	Init               bool              `json:"init"`
	NoNewPrivileges    bool              `json:"no-new-privileges"`
	LogDriver          string            `json:"log-driver"`
	LogOpts            map[string]string `json:"log-opts"` // nil: none configured (berth's rotation defaults)
	Builder            builderConfig     `json:"builder"`
	UsernsRemap        string            `json:"userns-remap"`
	ConfigFile         string            `json:"-"`

	remap userns.Remap // --userns-remap resolved (setupRemap)
	// The API over TCP, dockerd's flags and keys; nil booleans were not
	// given (plain TCP must be asked for with an explicit false).
	TLS       *bool  `json:"tls,omitempty"`
	TLSVerify *bool  `json:"tlsverify,omitempty"`
	TLSCACert string `json:"tlscacert,omitempty"`
	TLSCert   string `json:"tlscert,omitempty"`
	TLSKey    string `json:"tlskey,omitempty"`
}

// builderConfig is daemon.json's builder section.
type builderConfig struct {
	GC build.GCConfig `json:"gc"`
}

func defaultConfig() *config {
	return &config{
		Hosts:      []string{"unix:///run/berth/berth.sock"},
		DataRoot:   "/var/lib/berth",
		ExecRoot:   "/run/berth",
		Runtime:    autoRuntime,
		LogDriver:  "json-file",
		LogLevel:   "info",
		Group:      defaultSocketGroup,
		ConfigFile: "/etc/berth/daemon.json",
	}
}

// flagToKey maps flag names to their daemon.json keys.
var flagToKey = map[string]string{
	"host": "hosts", "data-root": "data-root", "exec-root": "exec-root", "default-runtime": "default-runtime",
	"log-level": "log-level", "debug": "debug", "pidfile": "pidfile", "bridge": "bridge", "bip": "bip", "insecure-registry": "insecure-registries", "firewall-table": "firewall-table",
	"certs-dir": "certs-dir", "group": "group", "ipv6": "ipv6", "fixed-cidr-v6": "fixed-cidr-v6",
	"init":       "init",
	"log-driver": "log-driver", "log-opt": "log-opts",

	"no-new-privileges": "no-new-privileges",
	"userns-remap":      "userns-remap",
	"tls":               "tls", "tlsverify": "tlsverify", "tlscacert": "tlscacert", "tlscert": "tlscert", "tlskey": "tlskey",
}

func (c *config) flags(fs *pflag.FlagSet) {
	fs.StringSliceVarP(&c.Hosts, "host", "H", c.Hosts, "Daemon socket(s) to connect to")
	fs.StringVar(&c.DataRoot, "data-root", c.DataRoot, "Root directory of persistent berth state")
	fs.StringVar(&c.ExecRoot, "exec-root", c.ExecRoot, "Root directory for execution state files")
	fs.StringVar(&c.ConfigFile, "config-file", c.ConfigFile, "Daemon configuration file")
	fs.StringVar(&c.Runtime, "default-runtime", c.Runtime, "Default OCI runtime for containers (\"auto\": crun where installed, else runc)")
	fs.StringVarP(&c.Group, "group", "G", c.Group, "Group for the unix socket")
	fs.BoolVarP(&c.Debug, "debug", "D", false, "Enable debug mode (debug logs, pprof on <exec-root>/debug.sock)")
	fs.StringVarP(&c.LogLevel, "log-level", "l", c.LogLevel, `Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")`)
	fs.StringVarP(&c.Pidfile, "pidfile", "p", "", "Path to use for daemon PID file (default <exec-root>/berthd.pid)")
	fs.StringVarP(&c.Bridge, "bridge", "b", "", "Attach containers to a network bridge")
	fs.StringVar(&c.BIP, "bip", "", "Specify network bridge IP")
	fs.BoolVar(&c.IPv6, "ipv6", false, "Enable IPv6 networking on the default bridge network")
	fs.StringVar(&c.FixedCIDRv6, "fixed-cidr-v6", "", "IPv6 subnet for the default bridge network")
	fs.BoolVar(&c.Init, "init", false, "Run an init in the containers to forward signals and reap processes")
	fs.BoolVar(&c.NoNewPrivileges, "no-new-privileges", false, "Set no-new-privileges by default for new containers")
	fs.StringVar(&c.LogDriver, "log-driver", c.LogDriver, "Default driver for container logs")
	fs.StringToStringVar(&c.LogOpts, "log-opt", nil, "Default log driver options for containers")
	fs.StringVar(&c.UsernsRemap, "userns-remap", "", "User/Group setting for user namespaces")
	fs.StringSliceVar(&c.InsecureRegistries, "insecure-registry", nil, "Enable insecure registry communication")
	// berth's own: the nftables table it owns, so that several daemons (tests) never share one
	fs.StringVar(&c.FirewallTable, "firewall-table", "berth", "Name of the nftables table berth owns")
	fs.StringVar(&c.CertsDir, "certs-dir", "/etc/berth/certs.d", "Directory of per-registry TLS certificates (<dir>/<host:port>/)")
	c.tlsFlags(fs)
}

// load merges daemon.json under the flags; like dockerd, a key set in both
// places is an error.
func (c *config) load(fs *pflag.FlagSet) error {
	data, err := os.ReadFile(c.ConfigFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !fs.Changed("config-file") {
			return nil
		}
		return fmt.Errorf("unable to configure the daemon with file %s: %w", c.ConfigFile, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("unable to configure the daemon with file %s: %w", c.ConfigFile, err)
	}
	var conflicts []string
	fs.Visit(func(f *pflag.Flag) {
		if key, ok := flagToKey[f.Name]; ok {
			if _, set := keys[key]; set {
				conflicts = append(conflicts, fmt.Sprintf("%s: (from flag: %s, from file: %s)", key, f.Value, keys[key]))
			}
		}
	})
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return fmt.Errorf("the following directives are specified both as a flag and in the configuration file: %s", strings.Join(conflicts, ", "))
	}
	fromFile := *c
	if err := json.Unmarshal(data, &fromFile); err != nil {
		return fmt.Errorf("unable to configure the daemon with file %s: %w", c.ConfigFile, err)
	}
	*c = fromFile
	return nil
}

// finish derives the defaults that depend on other settings.
func (c *config) finish(fs *pflag.FlagSet) {
	if !fs.Changed("pidfile") && c.Pidfile == "" {
		c.Pidfile = filepath.Join(c.ExecRoot, "berthd.pid")
	}
	c.finishTLS(fs)
}

func (c *config) level() slog.Level {
	if c.Debug { // dockerd's -D wins over --log-level
		return slog.LevelDebug
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error", "fatal":
		return slog.LevelError
	}
	return slog.LevelInfo
}
