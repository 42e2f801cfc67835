package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/moby/moby/api/types/container"
)

// tableView is what the default ps table reads of a summary.
func tableView(s container.Summary) container.Summary {
	return container.Summary{
		ID: s.ID, Names: s.Names, Image: s.Image, ImageID: s.ImageID, Command: s.Command, Created: s.Created,
		Ports: s.Ports, SizeRw: s.SizeRw, SizeRootFs: s.SizeRootFs, State: s.State, Status: s.Status,
	}
}

// checkPsTable asserts that when both parsePsTable and encoding/json take
// body they read the same columns. (parsePsTable does not validate what it
// skips, so it may take an answer encoding/json refuses; it refuses what
// encoding/json would refuse in a column it shows.)
func checkPsTable(t *testing.T, body []byte) {
	got, err := parsePsTable(body)
	// the window that readPsTable refills parses as the whole body does
	for _, r := range []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body)), iotest.HalfReader(bytes.NewReader(body))} {
		read, rerr := readPsTable(r)
		if (rerr == nil) != (err == nil) || err == nil && !reflect.DeepEqual(read, got) {
			t.Fatalf("%q: readPsTable: %v, %v; parsePsTable: %v, %v", body, read, rerr, got, err)
		}
	}
	var want []container.Summary
	if err != nil || json.Unmarshal(body, &want) != nil {
		return // the caller falls back to encoding/json
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %d items, encoding/json %d", body, len(got), len(want))
	}
	for i := range got {
		g, w := tableView(got[i]), tableView(want[i])
		if len(g.Ports) == 0 && len(w.Ports) == 0 {
			g.Ports, w.Ports = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%q: item %d:\n%#v\nencoding/json:\n%#v", body, i, g, w)
		}
	}
}

var psTableSeeds = []string{
	`[]`, ` [ ] `, `null`, `[{}]`,
	`[{"Id":"a\"b","Names":["/x","/y\u00e9"],"Image":"busybox","Command":"sh -c 'a \\ b'","Created":-5,"Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}],"State":"running","Status":"Up 2 seconds","NetworkSettings":{"Networks":{"n}]":{"IPAddress":"1.2.3.4","Aliases":null}}},"Mounts":[],"SizeRw":12,"SizeRootFs":null}]`,
	`[{"Id":"a","Names":null,"Labels":{"a":"]}"},"Created":1e3}]`,
	`[{"Id":"\xff"}]`, `[{"Id":"a"}`, `[{"Id":"a",}]`, `[{"Id":"a"}]x`, `[{"Id":1}]`,
}

func TestParsePsTable(t *testing.T) {
	for _, s := range append(psTableSeeds, psListJSON(t, 50), psListJSON(t, 300)) {
		checkPsTable(t, []byte(s))
	}
	if got, err := parsePsTable([]byte(psListJSON(t, 3))); err != nil || len(got) != 3 {
		t.Fatalf("the daemon's list: %d items, %v", len(got), err)
	}
}

func FuzzParsePsTable(f *testing.F) {
	for _, s := range psTableSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkPsTable(t, body) })
}
