package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/logfile"
	"github.com/berth-project/berth/internal/shim"
)

// The log drivers berth has.
const (
	logJSONFile = "json-file"
	logLocal    = "local"
	logNone     = "none"
)

// berthLogOpts is berth's default for json-file where the daemon's
// configuration sets no log-opts: rotated, unlike docker's unbounded log,
// as the local driver is by default.
var berthLogOpts = map[string]string{"max-size": "20m", "max-file": "5"}

// knownLogDrivers are the drivers dockerd registers that berth does not have.
var knownLogDrivers = []string{"syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries"}

// DefaultLogConfig is the daemon-wide log configuration for the driver
// and options berthd was given (--log-driver, --log-opt, daemon.json's
// log-driver and log-opts); nil opts (none configured) take berth's
// rotation defaults for json-file. It is checked as a container's would be.
func DefaultLogConfig(driver string, opts map[string]string) (containertypes.LogConfig, error) {
	if driver == "" {
		driver = logJSONFile
	}
	lc := containertypes.LogConfig{Type: driver, Config: maps.Clone(opts)}
	if lc.Config == nil {
		lc.Config = map[string]string{}
		if driver == logJSONFile {
			lc.Config = maps.Clone(berthLogOpts)
		}
	}
	if err := validateLogConfig(lc); err != nil {
		return containertypes.LogConfig{}, fmt.Errorf("failed to set log opts: %w", err)
	}
	return lc, nil
}

// mergeLogConfig gives a new container the daemon's driver when it names
// none, and the daemon's options it does not set itself when it uses the
// daemon's driver (dockerd's mergeAndVerifyLogConfig).
func mergeLogConfig(lc, daemonDefault containertypes.LogConfig) containertypes.LogConfig {
	out := containertypes.LogConfig{Type: lc.Type, Config: maps.Clone(lc.Config)}
	if out.Type == "" {
		out.Type = daemonDefault.Type
	}
	if out.Config == nil {
		out.Config = map[string]string{}
	}
	if out.Type == daemonDefault.Type {
		for k, v := range daemonDefault.Config {
			if _, ok := out.Config[k]; !ok {
				out.Config[k] = v
			}
		}
	}
	return out
}

// validateLogConfig refuses what dockerd refuses, with its messages: an
// unknown driver, an option the driver does not take, a bad value. A
// driver of dockerd's that berth lacks is refused as not implemented
// (never accepted and silently ignored). dockerd checks the values only
// when the container starts; berth does at create.
func validateLogConfig(lc containertypes.LogConfig) error {
	switch lc.Type {
	case "", logJSONFile, logLocal:
	case logNone:
		return nil // dockerd checks nothing for none
	default:
		if slices.Contains(knownLogDrivers, lc.Type) {
			return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("log driver %q is not supported by berth yet; use json-file, local or none", lc.Type))
		}
		return invalid("logger: no log driver named '%s' is registered", lc.Type)
	}
	switch mode := lc.Config["mode"]; mode {
	case "", "blocking", "non-blocking":
	default:
		return invalid("logger: logging mode not supported: %s", mode)
	}
	if v, ok := lc.Config["max-buffer-size"]; ok {
		if lc.Config["mode"] != "non-blocking" {
			return invalid("logger: max-buffer-size option is only supported with 'mode=non-blocking'")
		}
		if _, err := units.RAMInBytes(v); err != nil {
			return invalid("%s", err.Error())
		}
	}
	allowed := []string{"max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag"}
	unknown := "unknown log opt '%s' for json-file log driver"
	if lc.Type == logLocal {
		allowed, unknown = []string{"max-file", "max-size", "compress"}, "unknown log opt '%s' for log driver local"
	}
	for k := range lc.Config {
		if k != "mode" && k != "max-buffer-size" && !slices.Contains(allowed, k) {
			return invalid(unknown, k)
		}
	}
	if _, err := writerOptions(lc); err != nil {
		return invalid("failed to initialize logging driver: %s", err.Error())
	}
	for _, k := range []string{"labels-regex", "env-regex"} {
		if re, ok := lc.Config[k]; ok {
			if _, err := regexp.Compile(re); err != nil {
				return invalid("failed to initialize logging driver: %s", err.Error())
			}
		}
	}
	if tag, ok := lc.Config["tag"]; ok {
		if _, err := template.New("log-tag").Parse(tag); err != nil {
			return invalid("failed to initialize logging driver: %s", err.Error())
		}
	}
	return nil
}

// writerOptions reads the rotation options as the driver does (json-file:
// none by default; local: 20m, 5 files, compressed).
func writerOptions(lc containertypes.LogConfig) (shim.LogConfig, error) {
	cfg := lc.Config
	if lc.Type == logLocal {
		l := shim.LogConfig{Driver: logLocal, MaxSize: 20 * 1024 * 1024, MaxFiles: 5, Compress: true}
		if v, ok := cfg["max-size"]; ok {
			n, err := units.FromHumanSize(v)
			if err != nil {
				return l, fmt.Errorf("invalid value for max-size: %s: %w", v, err)
			}
			l.MaxSize = n
		}
		if v, ok := cfg["max-file"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return l, fmt.Errorf("invalid value for max-file: %s: %w", v, err)
			}
			l.MaxFiles = n
		}
		if v, ok := cfg["compress"]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return l, fmt.Errorf("invalid boolean value for compress: %w", err)
			}
			l.Compress = b
		}
		switch {
		case l.MaxSize < 0:
			return l, errors.New("max-size must not be negative")
		case l.MaxFiles < 0:
			return l, errors.New("max-file must not be negative")
		case l.Compress && l.MaxFiles <= 1:
			return l, errors.New("compression cannot be enabled when max file count is 1")
		}
		return l, nil
	}
	l := shim.LogConfig{Driver: logJSONFile, MaxFiles: 1}
	if v, ok := cfg["max-size"]; ok {
		n, err := units.FromHumanSize(v)
		if err != nil {
			return l, err
		}
		if n <= 0 {
			return l, errors.New("max-size must be a positive number")
		}
		l.MaxSize = n
	}
	if v, ok := cfg["max-file"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return l, err
		}
		if n < 1 {
			return l, errors.New("max-file cannot be less than 1")
		}
		l.MaxFiles = n
	}
	if v, ok := cfg["compress"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return l, err
		}
		if b && (l.MaxFiles == 1 || l.MaxSize == 0) {
			return l, errors.New("compress cannot be true when max-file is less than 2 or max-size is not set")
		}
		l.Compress = b
	}
	return l, nil
}

// logDriver is the container's log driver.
func logDriver(c *container.Container) string {
	if c.HostConfig == nil || c.HostConfig.LogConfig.Type == "" {
		return logJSONFile
	}
	return c.HostConfig.LogConfig.Type
}

// logFile is where the container's log is read from and in which format;
// ok is false for a driver that keeps no log berth can read (none).
func (d *Daemon) logFile(c *container.Container) (path string, format logfile.Format, ok bool) {
	switch logDriver(c) {
	case logJSONFile:
		return c.LogPath, logfile.JSON, true
	case logLocal:
		return filepath.Join(d.containerDataDir(c.ID), "local-logs", "container.log"), logfile.Local, true
	}
	return "", 0, false
}

// shimLog is what the shim needs to write c's log. c is locked.
func (d *Daemon) shimLog(c *container.Container) (path string, l shim.LogConfig, err error) {
	lc := containertypes.LogConfig{Type: logDriver(c)}
	if c.HostConfig != nil {
		lc.Config = c.HostConfig.LogConfig.Config
	}
	if lc.Type == logNone {
		return c.LogPath, shim.LogConfig{Driver: logNone}, nil
	}
	if l, err = writerOptions(lc); err != nil {
		return "", l, invalid("failed to initialize logging driver: %s", err.Error())
	}
	path, _, _ = d.logFile(c)
	if lc.Type == logLocal {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", l, fmt.Errorf("create log folder: %w", err)
		}
		return path, l, nil
	}
	attrs, err := logAttrs(c, lc.Config)
	if err != nil {
		return "", l, invalid("failed to initialize logging driver: %s", err.Error())
	}
	if len(attrs) > 0 {
		data, err := json.Marshal(attrs)
		if err != nil {
			return "", l, err
		}
		l.Attrs = string(data)
	}
	return path, l, nil
}

// logAttrs are docker's extra attributes of the container's log entries:
// the labels and environment variables --log-opt labels=, labels-regex=,
// env=, env-regex= select, and the tag= template's result.
func logAttrs(c *container.Container, opts map[string]string) (map[string]string, error) {
	attrs := map[string]string{}
	var labels map[string]string
	var envs []string
	if c.Config != nil {
		labels, envs = c.Config.Labels, c.Config.Env
	}
	if err := selectAttrs(attrs, labels, opts["labels"], opts["labels-regex"]); err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, e := range envs {
		if k, v, ok := strings.Cut(e, "="); ok {
			env[k] = v
		}
	}
	if err := selectAttrs(attrs, env, opts["env"], opts["env-regex"]); err != nil {
		return nil, err
	}
	if v, ok := opts["tag"]; ok && v != "" {
		tag, err := logTag(c, v)
		if err != nil {
			return nil, err
		}
		attrs["tag"] = tag
	}
	return attrs, nil
}

// selectAttrs copies into attrs the entries of from named in the
// comma-separated names or whose key matches the regular expression re.
func selectAttrs(attrs, from map[string]string, names, re string) error {
	if names != "" {
		for _, k := range strings.Split(names, ",") {
			if v, ok := from[k]; ok {
				attrs[k] = v
			}
		}
	}
	if re == "" {
		return nil
	}
	match, err := regexp.Compile(re)
	if err != nil {
		return err
	}
	for k, v := range from {
		if match.MatchString(k) {
			attrs[k] = v
		}
	}
	return nil
}

// logTag expands a --log-opt tag= template with docker's fields.
func logTag(c *container.Container, text string) (string, error) {
	tmpl, err := template.New("log-tag").Parse(text)
	if err != nil {
		return "", err
	}
	imageName := ""
	if c.Config != nil {
		imageName = c.Config.Image
	}
	imageID := strings.TrimPrefix(c.ImageID, "sha256:")
	info := struct {
		ID, FullID, Name, ImageID, ImageFullID, ImageName, DaemonName string
	}{
		ID: c.ID[:min(12, len(c.ID))], FullID: c.ID, Name: strings.TrimPrefix(c.Name, "/"),
		ImageID: imageID[:min(12, len(imageID))], ImageFullID: c.ImageID, ImageName: imageName, DaemonName: "berth",
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, info); err != nil {
		return "", err
	}
	return b.String(), nil
}
