package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// psListJSON is a GET /containers/json?all=1 answer of n created
// containers, as berthd gives it for `create --network none busybox true`.
func psListJSON(tb testing.TB, n int) string {
	list := make([]container.Summary, n)
	created := time.Now().Add(-time.Minute).Unix()
	for i := range list {
		list[i] = container.Summary{
			ID: fmt.Sprintf("%064x", i+1), Names: []string{fmt.Sprintf("/bench-%d", i)},
			Image: "busybox", ImageID: busyboxID, Command: "true", Created: created,
			Ports: []container.PortSummary{}, Labels: map[string]string{},
			State: container.StateCreated, Status: "Created",
			NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{"none": {}}},
			Mounts:          []container.MountPoint{},
		}
		list[i].HostConfig.NetworkMode = "none"
	}
	b, err := json.Marshal(list)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// BenchmarkPs1000 is `berth ps -a` against a stub answering 1,000
// containers: the client's share of ps (request, decoding, table).
func BenchmarkPs1000(b *testing.B) {
	body := psListJSON(b, 1000)
	stub := newAPIStub(b, map[string]http.HandlerFunc{"GET /containers/json": replyJSON(200, body)})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, errOut, code := stub.run(b, "", "ps", "-a"); code != 0 {
			b.Fatal(errOut)
		}
	}
}
