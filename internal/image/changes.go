package image

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// applyChanges applies Dockerfile instructions to cfg, like docker import
// --change and commit --change: CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, USER,
// LABEL, VOLUME, STOPSIGNAL, ONBUILD and HEALTHCHECK.
func applyChanges(cfg *dockerspec.DockerOCIImageConfig, changes []string) error {
	cmdSet := false
	for _, change := range changes {
		for _, line := range strings.Split(change, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			kw, rest, _ := strings.Cut(line, " ")
			kw = strings.ToLower(kw)
			rest = strings.TrimSpace(rest)
			if err := applyChange(cfg, kw, rest, &cmdSet); err != nil {
				return errdefs.ErrInvalidArgument.WithMessage(err.Error())
			}
		}
	}
	return nil
}

func applyChange(cfg *dockerspec.DockerOCIImageConfig, kw, rest string, cmdSet *bool) error {
	name := strings.ToUpper(kw)
	need := func() error {
		if rest == "" {
			return fmt.Errorf("%s requires at least one argument", name)
		}
		return nil
	}
	switch kw {
	case "cmd":
		if err := need(); err != nil {
			return err
		}
		cfg.Cmd = commandArgs(rest)
		*cmdSet = true
	case "entrypoint":
		if err := need(); err != nil {
			return err
		}
		cfg.Entrypoint = commandArgs(rest)
		if !*cmdSet {
			cfg.Cmd = nil
		}
	case "env", "label":
		pairs, err := keyValues(name, rest)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			if kw == "env" {
				cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
				continue
			}
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			cfg.Labels[kv[0]] = kv[1]
		}
	case "workdir":
		if err := need(); err != nil {
			return err
		}
		dir := unquote(rest)
		if !path.IsAbs(dir) {
			dir = path.Join("/", cfg.WorkingDir, dir)
		}
		cfg.WorkingDir = path.Clean(dir)
	case "user":
		if err := need(); err != nil {
			return err
		}
		cfg.User = unquote(rest)
	case "expose":
		if err := need(); err != nil {
			return err
		}
		words, err := splitWords(rest)
		if err != nil {
			return err
		}
		for _, w := range words {
			ports, err := exposedPorts(w)
			if err != nil {
				return err
			}
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range ports {
				cfg.ExposedPorts[p] = struct{}{}
			}
		}
	case "volume":
		vols, ok := jsonArray(rest)
		if !ok {
			var err error
			if vols, err = splitWords(rest); err != nil {
				return err
			}
		}
		if len(vols) == 0 {
			return fmt.Errorf("VOLUME requires at least one argument")
		}
		for _, v := range vols {
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("VOLUME specified can not be an empty string")
			}
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
		}
	case "stopsignal":
		sig := unquote(rest)
		if !validSignal(sig) {
			return fmt.Errorf("Invalid signal: %s", sig)
		}
		cfg.StopSignal = sig
	case "onbuild":
		if err := need(); err != nil {
			return err
		}
		next, _, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(next) {
		case "ONBUILD":
			return fmt.Errorf("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
		case "FROM", "MAINTAINER":
			return fmt.Errorf("%s isn't allowed as an ONBUILD trigger", strings.ToUpper(next))
		}
		cfg.OnBuild = append(cfg.OnBuild, rest)
	case "healthcheck":
		hc, err := healthcheck(rest)
		if err != nil {
			return err
		}
		cfg.Healthcheck = hc
	default:
		return fmt.Errorf("%s is not a valid change command", kw)
	}
	return nil
}

// commandArgs is the exec form (a JSON array) or the shell form.
func commandArgs(rest string) []string {
	if args, ok := jsonArray(rest); ok {
		return args
	}
	return []string{"/bin/sh", "-c", rest}
}

func jsonArray(s string) ([]string, bool) {
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, false
	}
	return out, true
}

// keyValues parses "k=v k2='v 2'" or the legacy "k v w" (one pair).
func keyValues(name, rest string) ([][2]string, error) {
	words, err := splitWords(rest)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%s requires at least one argument", name)
	}
	if !strings.Contains(words[0], "=") {
		// Legacy form: the first word is the key, the rest of the line the value.
		key, value, _ := strings.Cut(rest, " ")
		value = strings.TrimSpace(value)
		if value == "" {
			return nil, fmt.Errorf("%s must have two arguments", name)
		}
		return [][2]string{{key, unquote(value)}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("Syntax error - can't find = in %q. Must be of the form: name=value", w)
		}
		if k == "" {
			return nil, fmt.Errorf("%s names can not be blank", name)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// splitWords splits on blanks, honouring quotes and backslash escapes, and
// removes the quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
			inWord = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote = r
			inWord = true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unexpected end of statement while looking for matching %s", map[rune]string{'"': "double-quote", '\'': "single-quote"}[quote])
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func unquote(s string) string {
	if w, err := splitWords(s); err == nil && len(w) == 1 {
		return w[0]
	}
	return s
}

// exposedPorts expands "80", "80/udp" or "8000-8002/tcp" to "port/proto" keys.
func exposedPorts(spec string) ([]string, error) {
	ports, proto, _ := strings.Cut(spec, "/")
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("invalid proto: %s", proto)
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid containerPort: %s", ports)
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(hi, 10, 16); err != nil || end < start {
			return nil, fmt.Errorf("invalid containerPort: %s", ports)
		}
	}
	var out []string
	for p := start; p <= end; p++ {
		out = append(out, strconv.FormatUint(p, 10)+"/"+proto)
	}
	return out, nil
}

func validSignal(sig string) bool {
	if sig == "" {
		return false
	}
	if n, err := strconv.Atoi(sig); err == nil {
		return n > 0 && n < 65
	}
	name := strings.TrimPrefix(strings.ToUpper(sig), "SIG")
	if strings.HasPrefix(name, "RTMIN") || strings.HasPrefix(name, "RTMAX") {
		return true
	}
	return signalNames[name]
}

var signalNames = map[string]bool{
	"ABRT": true, "ALRM": true, "BUS": true, "CHLD": true, "CLD": true, "CONT": true, "FPE": true, "HUP": true,
	"ILL": true, "INT": true, "IO": true, "IOT": true, "KILL": true, "PIPE": true, "POLL": true, "PROF": true,
	"PWR": true, "QUIT": true, "SEGV": true, "STKFLT": true, "STOP": true, "SYS": true, "TERM": true, "TRAP": true,
	"TSTP": true, "TTIN": true, "TTOU": true, "URG": true, "USR1": true, "USR2": true, "VTALRM": true,
	"WINCH": true, "XCPU": true, "XFSZ": true, "UNUSED": true,
}

// healthcheck parses "NONE" or "[--opt=v ...] CMD ...".
func healthcheck(rest string) (*dockerspec.HealthcheckConfig, error) {
	if strings.EqualFold(strings.TrimSpace(rest), "NONE") {
		return &dockerspec.HealthcheckConfig{Test: []string{"NONE"}}, nil
	}
	hc := &dockerspec.HealthcheckConfig{}
	for strings.HasPrefix(rest, "--") {
		var opt string
		opt, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimSpace(rest)
		k, v, _ := strings.Cut(strings.TrimPrefix(opt, "--"), "=")
		var err error
		switch k {
		case "interval":
			hc.Interval, err = time.ParseDuration(v)
		case "timeout":
			hc.Timeout, err = time.ParseDuration(v)
		case "start-period":
			hc.StartPeriod, err = time.ParseDuration(v)
		case "start-interval":
			hc.StartInterval, err = time.ParseDuration(v)
		case "retries":
			hc.Retries, err = strconv.Atoi(v)
		default:
			return nil, fmt.Errorf("Unknown flag: %s", k)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid value for --%s: %q", k, v)
		}
	}
	kw, args, _ := strings.Cut(rest, " ")
	if !strings.EqualFold(kw, "CMD") {
		return nil, fmt.Errorf("Unknown type %q in HEALTHCHECK (try CMD)", kw)
	}
	args = strings.TrimSpace(args)
	if args == "" {
		return nil, fmt.Errorf("Missing command after HEALTHCHECK CMD")
	}
	if exec, ok := jsonArray(args); ok {
		hc.Test = append([]string{"CMD"}, exec...)
	} else {
		hc.Test = []string{"CMD-SHELL", args}
	}
	return hc, nil
}
