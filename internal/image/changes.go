package image

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// changeCommands are the Dockerfile instructions docker accepts in
// import --change and commit --change (dockerd's validCommitCommands).
var changeCommands = map[string]bool{
	"cmd": true, "entrypoint": true, "healthcheck": true, "env": true, "expose": true, "label": true,
	"onbuild": true, "stopsignal": true, "user": true, "volume": true, "workdir": true,
}

// applyChanges applies Dockerfile instructions to cfg, like docker import
// --change and commit --change. The changes are joined into one Dockerfile
// and parsed by BuildKit's Dockerfile parser, then applied as dockerd's
// builder does: words are expanded against the image's environment, an
// ENTRYPOINT resets a CMD the changes did not set, and the shell forms run
// under the image's SHELL. Errors are invalid arguments with dockerd's
// messages.
func applyChanges(cfg *dockerspec.DockerOCIImageConfig, changes []string) error {
	if len(changes) == 0 {
		return nil
	}
	res, err := parser.Parse(strings.NewReader(strings.Join(changes, "\n")))
	if err != nil {
		return invalidChange(err)
	}
	var cmds []instructions.Command
	for _, n := range res.AST.Children {
		if !changeCommands[strings.ToLower(n.Value)] {
			// dockerd 20.10's words (its parser lower-cased the instruction;
			// moby's since keep it as written)
			return errdefs.ErrInvalidArgument.WithMessage(strings.ToLower(n.Value) + " is not a valid change command")
		}
		cmd, err := instructions.ParseCommand(n)
		if err != nil {
			return invalidChange(err)
		}
		cmds = append(cmds, cmd)
	}
	lex := shell.NewLex(res.EscapeToken)
	cmdSet := false
	for _, cmd := range cmds {
		if err := applyChange(cfg, lex, cmd, &cmdSet); err != nil {
			return invalidChange(err)
		}
	}
	return nil
}

// invalidChange types err as an invalid argument with the parser's bare
// message (dockerd shows no location for a change).
func invalidChange(err error) error {
	var loc *parser.LocationError
	if errors.As(err, &loc) {
		err = loc.Unwrap()
	}
	return errdefs.ErrInvalidArgument.WithMessage(err.Error())
}

func applyChange(cfg *dockerspec.DockerOCIImageConfig, lex *shell.Lex, cmd instructions.Command, cmdSet *bool) error {
	envs := shell.EnvsFromSlice(cfg.Env)
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		err := ex.Expand(func(word string) (string, error) {
			w, _, err := lex.ProcessWord(word, envs)
			return w, err
		})
		if err != nil {
			return err
		}
	}
	switch c := cmd.(type) {
	case *instructions.CmdCommand:
		cfg.Cmd = cmdLine(cfg, c.ShellDependantCmdLine)
		cfg.ArgsEscaped = false
		if len(c.CmdLine) != 0 {
			*cmdSet = true
		}
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = cmdLine(cfg, c.ShellDependantCmdLine)
		cfg.ArgsEscaped = false
		if !*cmdSet {
			cfg.Cmd = nil
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.WorkdirCommand:
		dir := c.Path
		if !path.IsAbs(dir) {
			dir = path.Join("/", cfg.WorkingDir, dir)
		}
		cfg.WorkingDir = path.Clean(dir)
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.ExposeCommand:
		// EXPOSE alone expands a word into several ($PORTS="80 443").
		for _, p := range c.Ports {
			words, err := lex.ProcessWords(p, envs)
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
		}
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			if v == "" {
				return errors.New("VOLUME specified can not be an empty string")
			}
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.StopSignalCommand:
		if !validSignal(c.Signal) {
			return fmt.Errorf("Invalid signal: %s", c.Signal)
		}
		cfg.StopSignal = c.Signal
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
	case *instructions.HealthCheckCommand:
		cfg.Healthcheck = c.Health
	default:
		return fmt.Errorf("%s is not a valid change command", strings.ToLower(cmd.Name()))
	}
	return nil
}

// cmdLine is the exec form as given, or the shell form under the image's
// SHELL (/bin/sh -c by default).
func cmdLine(cfg *dockerspec.DockerOCIImageConfig, c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell || c.CmdLine == nil {
		return c.CmdLine
	}
	sh := cfg.Shell
	if len(sh) == 0 {
		sh = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, sh...), c.CmdLine...)
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); shell.EqualEnvKeys(ek, k) {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// exposedPorts expands "80", "80/udp", "8000-8002/tcp" or
// "[ip:][hostport:]port[/proto]" (the mapping is ignored) to "port/proto"
// keys, with dockerd's messages.
func exposedPorts(spec string) ([]string, error) {
	parts := strings.Split(spec, ":")
	ports, proto, _ := strings.Cut(parts[len(parts)-1], "/")
	if ports == "" {
		return nil, fmt.Errorf("no port specified: %s<empty>", spec)
	}
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
