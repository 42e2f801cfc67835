package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

var psNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func psSummaries() []container.Summary {
	return []container.Summary{
		{
			ID: testID, Names: []string{"/web"}, Image: "busybox", ImageID: busyboxID,
			Command: "sh -c 'sleep 100'", Created: psNow.Add(-3 * time.Second).Unix(),
			State: container.StateRunning, Status: "Up 2 seconds",
			Labels: map[string]string{"b": "2", "a": "1"},
			Ports: []container.PortSummary{
				{IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
				{PrivatePort: 9000, Type: "tcp"}, {PrivatePort: 9001, Type: "tcp"},
			},
			NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{"none": {}}},
			SizeRw:          12, SizeRootFs: 4261000,
		},
		{
			ID: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Names: []string{"/quirky_turing"},
			Image: busyboxID, ImageID: busyboxID, Command: "true", Created: psNow.Add(-2 * time.Hour).Unix(),
			State: container.StateExited, Status: "Exited (0) 2 hours ago",
		},
	}
}

func psRows(trunc bool) []psRow {
	var rows []psRow
	for _, s := range psSummaries() {
		rows = append(rows, newPsRow(s, trunc, psNow))
	}
	return rows
}

func TestPsDefaultTable(t *testing.T) {
	var buf bytes.Buffer
	if err := writePs(&buf, "", false, false, psRows(true)); err != nil {
		t.Fatal(err)
	}
	// docker's layout: each column as wide as its widest cell plus three
	// spaces, at least ten; the last column unpadded.
	want := "" +
		"CONTAINER ID   IMAGE          COMMAND               CREATED         STATUS                   PORTS                                 NAMES\n" +
		"4d2f9a5e1c7b   busybox        \"sh -c 'sleep 100'\"   3 seconds ago   Up 2 seconds             9000-9001/tcp, 0.0.0.0:8080->80/tcp   web\n" +
		"0123456789ab   3f57d9401f8d   \"true\"                2 hours ago     Exited (0) 2 hours ago                                         quirky_turing\n"
	if buf.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
	checkGolden(t, "ps-table", buf.String())
}

func TestPsEmptyTableHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := writePs(&buf, "table", false, false, nil); err != nil {
		t.Fatal(err)
	}
	if want := "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestPsVariants(t *testing.T) {
	tests := []struct {
		name   string
		format string
		quiet  bool
		size   bool
		trunc  bool
	}{
		{"ps-size", "", false, true, true},
		{"ps-notrunc", "", false, false, false},
		{"ps-quiet", "", true, false, true},
		{"ps-json", "json", false, false, true},
		{"ps-template", "{{.Names}} {{.State}} {{.Label \"a\"}} {{.Labels}} {{.Networks}} {{.Size}}", false, false, true},
		{"ps-table-template", "table {{.ID}}\t{{.Names}}\t{{.RunningFor}}", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writePs(&buf, tt.format, tt.quiet, tt.size, psRows(tt.trunc)); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, buf.String())
		})
	}
}

func TestPsJSONKeys(t *testing.T) {
	var buf bytes.Buffer
	if err := writePs(&buf, "json", false, false, psRows(true)[:1]); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	for _, k := range []string{"Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "Size", "State", "Status"} {
		if _, ok := m[k]; !ok {
			t.Errorf("json lacks %s: %s", k, buf.String())
		}
	}
	if m["ID"] != "4d2f9a5e1c7b" || m["Command"] != `"sh -c 'sleep 100'"` || m["Labels"] != "a=1,b=2" {
		t.Errorf("json = %s", buf.String())
	}
}

func TestDisplayPorts(t *testing.T) {
	any4 := netip.MustParseAddr("0.0.0.0")
	tests := []struct {
		ports []container.PortSummary
		want  string
	}{
		{nil, ""},
		{[]container.PortSummary{{PrivatePort: 53, Type: "udp"}}, "53/udp"},
		{[]container.PortSummary{{IP: any4, PrivatePort: 80, PublicPort: 80, Type: "tcp"}, {IP: any4, PrivatePort: 81, PublicPort: 81, Type: "tcp"}}, "0.0.0.0:80-81->80-81/tcp"},
		{[]container.PortSummary{{IP: netip.MustParseAddr("::"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"}}, "[::]:8080->80/tcp"},
		{[]container.PortSummary{{PrivatePort: 3, Type: "tcp"}, {PrivatePort: 1, Type: "tcp"}, {PrivatePort: 2, Type: "tcp"}, {PrivatePort: 5, Type: "tcp"}}, "1-3/tcp, 5/tcp"},
	}
	for _, tt := range tests {
		if got := displayPorts(tt.ports); got != tt.want {
			t.Errorf("displayPorts(%v) = %q, want %q", tt.ports, got, tt.want)
		}
	}
}

func TestPsImageAndCommandTruncation(t *testing.T) {
	s := container.Summary{Image: "docker.io/library/busybox:1.36@sha256:" + strings.Repeat("a", 64), ImageID: busyboxID,
		Command: "a very long command line that goes on", Names: []string{"/web", "/other/alias"}}
	r := newPsRow(s, true, psNow)
	if r.Image != "busybox:1.36" || r.Command != `"a very long command…"` || r.Names != "web" {
		t.Errorf("row = %+v", r)
	}
	r = newPsRow(s, false, psNow)
	if r.Image != s.Image || r.Command != `"`+s.Command+`"` || r.Names != "web,other/alias" {
		t.Errorf("untruncated row = %+v", r)
	}
}

func TestPsCommand(t *testing.T) {
	e := newFakeEngine(t)
	list, _ := json.Marshal(psSummaries())
	e.handle("GET /containers/json", replyJSON(http.StatusOK, string(list)))
	out, errOut, code := e.run(t, "", "ps", "-a", "-q", "--filter", "status=exited", "-f", "label=a=1")
	if code != 0 || out != "4d2f9a5e1c7b\n0123456789ab\n" || errOut != "" {
		t.Errorf("ps -q: code=%d out=%q err=%q", code, out, errOut)
	}
	c := e.callMatching("GET /containers/json")
	if !strings.Contains(c, "all=1") || !strings.Contains(c, "filters=") || !strings.Contains(c, "status") {
		t.Errorf("list call = %q", c)
	}
	if _, _, code := e.run(t, "", "ps", "-l"); code != 0 || !strings.Contains(e.calls()[len(e.calls())-1], "limit=1") {
		t.Errorf("ps -l call = %v", e.calls())
	}
	if _, _, code := e.run(t, "", "ps", "-n", "3", "--format", "{{.Size}}"); code != 0 || !strings.Contains(e.calls()[len(e.calls())-1], "size=1") {
		t.Errorf("ps --format {{.Size}} call = %v", e.calls())
	}
	_, errOut, code = e.run(t, "", "ps", "--filter", "nonsense")
	if code != 125 || !strings.HasPrefix(errOut, `invalid argument "nonsense" for "-f, --filter" flag: bad format of filter (expected name=value)`) {
		t.Errorf("bad filter: code=%d err=%q", code, errOut)
	}
	out, errOut, code = e.run(t, "", "ps", "-q", "--format", "{{.Names}}")
	if code != 0 || errOut != "WARNING: Ignoring custom format, because both --format and --quiet are set.\n" || !strings.HasPrefix(out, "4d2f9a5e1c7b") {
		t.Errorf("ps -q --format: code=%d out=%q err=%q", code, out, errOut)
	}
}
