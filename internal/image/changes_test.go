package image

import (
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestApplyChanges: the forms docker accepts in --change, parsed by
// BuildKit's Dockerfile parser, give the config dockerd's builder gives.
func TestApplyChanges(t *testing.T) {
	base := func() dockerspec.DockerOCIImageConfig {
		return dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
			Env: []string{"PATH=/bin", "HOME=/root"}, Cmd: []string{"sh"}, WorkingDir: "/srv",
		}}
	}
	tests := []struct {
		name    string
		changes []string
		check   func(c dockerspec.DockerOCIImageConfig) any // returns the value compared with want
		want    any
	}{
		{"cmd json", []string{`CMD ["echo", "a b"]`}, func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"echo", "a b"}},
		{"cmd shell", []string{`CMD echo "a  b" $HOME`}, func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"/bin/sh", "-c", `echo "a  b" $HOME`}},
		{"cmd under SHELL", []string{"CMD echo hi"}, func(c dockerspec.DockerOCIImageConfig) any {
			return c.Cmd
		}, []string{"/bin/bash", "-xc", "echo hi"}},
		{"cmd empty", []string{"CMD"}, func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"/bin/sh", "-c"}},
		{"bad json is shell form", []string{`CMD [echo`}, func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"/bin/sh", "-c", "[echo"}},
		{"entrypoint resets cmd", []string{`ENTRYPOINT ["/init"]`}, func(c dockerspec.DockerOCIImageConfig) any {
			return [][]string{c.Entrypoint, c.Cmd}
		}, [][]string{{"/init"}, nil}},
		{"entrypoint keeps a cmd set before", []string{`CMD ["x"]`, "ENTRYPOINT /init -v"}, func(c dockerspec.DockerOCIImageConfig) any {
			return [][]string{c.Entrypoint, c.Cmd}
		}, [][]string{{"/bin/sh", "-c", "/init -v"}, {"x"}}},
		{"env pairs", []string{`ENV A=1 B="two words" C=a\ b HOME=/home`}, func(c dockerspec.DockerOCIImageConfig) any { return c.Env },
			[]string{"PATH=/bin", "HOME=/home", "A=1", "B=two words", "C=a b"}},
		{"env legacy", []string{"ENV K the rest  of it"}, func(c dockerspec.DockerOCIImageConfig) any { return c.Env[2] }, "K=the rest  of it"},
		{"env expands", []string{"ENV P=$PATH:/usr/bin Q=${HOME}x"}, func(c dockerspec.DockerOCIImageConfig) any { return c.Env[2:] },
			[]string{"P=/bin:/usr/bin", "Q=/rootx"}},
		{"several lines in one change", []string{"ENV A=1\nUSER nobody"}, func(c dockerspec.DockerOCIImageConfig) any { return c.User + " " + c.Env[2] }, "nobody A=1"},
		{"label quoting", []string{`LABEL a="x y" 'b'='it''s' c=z\"q "d e"=f`}, func(c dockerspec.DockerOCIImageConfig) any { return c.Labels },
			map[string]string{"a": "x y", "b": "its", "c": `z"q`, "d e": "f"}},
		{"workdir relative", []string{"WORKDIR app", "WORKDIR ../x/./y"}, func(c dockerspec.DockerOCIImageConfig) any { return c.WorkingDir }, "/srv/x/y"},
		{"workdir expands", []string{"WORKDIR $HOME/w"}, func(c dockerspec.DockerOCIImageConfig) any { return c.WorkingDir }, "/root/w"},
		{"user", []string{"USER 1000:1000"}, func(c dockerspec.DockerOCIImageConfig) any { return c.User }, "1000:1000"},
		{"expose", []string{"EXPOSE 80 53/udp 8000-8001/tcp 127.0.0.1:90:91"}, func(c dockerspec.DockerOCIImageConfig) any { return c.ExposedPorts },
			map[string]struct{}{"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "91/tcp": {}}},
		{"expose expands to words", []string{"ENV PORTS=\"1 2\"", "EXPOSE $PORTS"}, func(c dockerspec.DockerOCIImageConfig) any { return c.ExposedPorts },
			map[string]struct{}{"1/tcp": {}, "2/tcp": {}}},
		{"volume json", []string{`VOLUME ["/a", "/b c"]`}, func(c dockerspec.DockerOCIImageConfig) any { return c.Volumes },
			map[string]struct{}{"/a": {}, "/b c": {}}},
		{"volume words", []string{"VOLUME /a /b"}, func(c dockerspec.DockerOCIImageConfig) any { return c.Volumes },
			map[string]struct{}{"/a": {}, "/b": {}}},
		{"stopsignal", []string{"STOPSIGNAL SIGUSR1"}, func(c dockerspec.DockerOCIImageConfig) any { return c.StopSignal }, "SIGUSR1"},
		{"onbuild", []string{"ONBUILD RUN echo  hi"}, func(c dockerspec.DockerOCIImageConfig) any { return c.OnBuild }, []string{"RUN echo  hi"}},
		{"healthcheck", []string{"HEALTHCHECK --interval=5s --retries=2 CMD true"}, func(c dockerspec.DockerOCIImageConfig) any {
			return *c.Healthcheck
		}, dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second, Retries: 2}},
		{"healthcheck none", []string{"HEALTHCHECK NONE"}, func(c dockerspec.DockerOCIImageConfig) any { return c.Healthcheck.Test }, []string{"NONE"}},
		{"lower case and comments", []string{"# a comment\ncmd [\"x\"]"}, func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			if tt.name == "cmd under SHELL" {
				cfg.Shell = []string{"/bin/bash", "-xc"}
			}
			if err := applyChanges(&cfg, tt.changes); err != nil {
				t.Fatal(err)
			}
			if got := tt.check(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestApplyChangesErrors: bad changes are invalid arguments with the
// messages dockerd answers (checked against dockerd 20.10, and moby's
// current builder for what 20.10 did not accept: STOPSIGNAL).
func TestApplyChangesErrors(t *testing.T) {
	tests := []struct{ change, msg string }{
		{"run echo", "run is not a valid change command"},
		// lower-cased, as dockerd 20.10 answers
		{"RUN echo", "run is not a valid change command"},
		{"FOO bar", "foo is not a valid change command"},
		{"FROM x", "from is not a valid change command"},
		{"MAINTAINER x", "maintainer is not a valid change command"},
		{"ENV", "ENV requires at least one argument"},
		{"ENV A", "ENV must have two arguments"},
		{"LABEL", "LABEL requires at least one argument"},
		{"LABEL a", "LABEL must have two arguments"},
		{`ENV A="unterminated`, `failed to process "\"unterminated": unexpected end of statement while looking for matching double-quote`},
		{"EXPOSE abc", "invalid containerPort: abc"},
		{"EXPOSE 80/xyz", "invalid proto: xyz"},
		{"STOPSIGNAL NOPE", "Invalid signal: NOPE"},
		{"VOLUME []", "VOLUME requires at least one argument"},
		{`VOLUME [""]`, "VOLUME specified can not be an empty string"},
		{"HEALTHCHECK FOO", `Unknown type "FOO" in HEALTHCHECK (try CMD)`},
		{"ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
		{"ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"},
		{"WORKDIR", "WORKDIR requires exactly one argument"},
		{"USER", "USER requires exactly one argument"},
	}
	for _, tt := range tests {
		cfg := dockerspec.DockerOCIImageConfig{}
		err := applyChanges(&cfg, []string{tt.change})
		if !errdefs.IsInvalidArgument(err) || err.Error() != tt.msg {
			t.Errorf("%q: err = %v, want invalid argument %q", tt.change, err, tt.msg)
		}
	}
}
