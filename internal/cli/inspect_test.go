package cli

import (
	"net/http"
	"strings"
	"testing"
)

const containerJSON = `{"Id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","Created":"2024-06-01T12:00:00Z",` +
	`"Path":"sh","Args":[],"State":{"Status":"running","Running":true,"Pid":42,"ExitCode":0},` +
	`"Image":"` + busyboxID + `","Name":"/web","Config":{"Image":"busybox","Labels":{"a":"b"},"Env":["PATH=/bin"]},` +
	`"BerthExtra":"x"}`

const imageJSON = `{"Id":"` + busyboxID + `","RepoTags":["busybox:latest"],"Created":"2024-06-01T12:00:00Z","Size":4261000,` +
	`"Config":{"Cmd":["sh"],"Labels":null}}`

func inspectStub(t *testing.T) *apiStub {
	return newAPIStub(t, map[string]http.HandlerFunc{
		"GET /containers/web/json":     replyJSON(200, containerJSON),
		"GET /containers/busybox/json": replyJSON(404, `{"message":"No such container: busybox"}`),
		"GET /containers/nope/json":    replyJSON(404, `{"message":"No such container: nope"}`),
		"GET /images/busybox/json":     replyJSON(200, imageJSON),
		"GET /images/nope/json":        replyJSON(404, `{"message":"No such image: nope:latest"}`),
		"GET /networks/nope":           replyJSON(404, `{"message":"network nope not found"}`),
		"GET /volumes/nope":            replyJSON(404, `{"message":"get nope: no such volume"}`),
	})
}

func TestInspectCommand(t *testing.T) {
	stub := inspectStub(t)
	tests := []struct {
		name      string
		args      []string
		out, err  string
		code      int
		outPrefix bool
	}{
		{name: "id", args: []string{"inspect", "-f", "{{.Id}}", "web"}, out: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"},
		{name: "state", args: []string{"inspect", "--format", "{{.State.Running}} {{.Name}} {{index .Config.Labels \"a\"}}", "web"}, out: "true /web b\n"},
		{name: "json func", args: []string{"inspect", "-f", "{{json .Config.Labels}}", "web"}, out: "{\"a\":\"b\"}\n"},
		{name: "raw fallback", args: []string{"inspect", "-f", "{{.BerthExtra}}", "web"}, out: "x\n"},
		{name: "image", args: []string{"inspect", "-f", "{{.Id}} {{index .RepoTags 0}}", "busybox"}, out: busyboxID + " busybox:latest\n"},
		{name: "image by type", args: []string{"inspect", "--type", "image", "-f", "{{.Size}}", "busybox"}, out: "4261000\n"},
		{name: "image inspect", args: []string{"image", "inspect", "-f", "{{.Config.Cmd}}", "busybox"}, out: "[sh]\n"},
		{
			name: "missing among found", args: []string{"inspect", "-f", "{{.Name}}", "web", "nope"},
			out: "/web\n", err: "Error: No such object: nope\n", code: 1,
		},
		{
			name: "image inspect missing", args: []string{"image", "inspect", "nope"},
			out: "[]\n", err: "Error response from daemon: No such image: nope:latest\n", code: 1,
		},
		{
			name: "typed missing", args: []string{"inspect", "--type", "container", "busybox"},
			out: "[]\n", err: "Error response from daemon: No such container: busybox\n", code: 1,
		},
		{
			name: "bad template", args: []string{"inspect", "-f", "{{.Id", "web"},
			err: "template parsing error: template: :1: unclosed action\n", code: 64,
		},
		{
			name: "missing field", args: []string{"inspect", "-f", "{{.Nope}}", "web"},
			out: "\n", err: "template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"\n", code: 1,
		},
		{
			name: "bad type", args: []string{"inspect", "--type", "bogus", "web"},
			err: "unknown type: \"bogus\": must be one of \"config\", \"container\", \"image\", \"network\", \"node\", \"plugin\", \"secret\", \"service\", \"task\", \"volume\"\n", code: 1,
		},
		{name: "json", args: []string{"inspect", "-f", "json", "busybox"}, out: "[" + imageJSON + "]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := stub.run(t, "", tt.args...)
			if code != tt.code || out != tt.out || errOut != tt.err {
				t.Errorf("got code %d\nstdout %q\nstderr %q\nwant code %d\nstdout %q\nstderr %q", code, out, errOut, tt.code, tt.out, tt.err)
			}
		})
	}
}

func TestInspectIndented(t *testing.T) {
	stub := inspectStub(t)
	out, _, code := stub.run(t, "", "inspect", "busybox", "web")
	if code != 0 {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{
		"[\n    {\n        \"Id\": \"" + busyboxID + "\",\n",
		"\n    },\n    {\n        \"Id\": \"0123456789abcdef",
		"        \"BerthExtra\": \"x\"\n    }\n]\n",
		"\"Config\": {\n            \"Cmd\": [\n                \"sh\"\n            ],",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
