package network

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/api/types/network"
)

// BenchmarkContainerLifecycle measures what a container on a bridge
// network costs beyond --network none: namespace, veth, address, published
// port (firewall update), then teardown.
func BenchmarkContainerLifecycle(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	var setup, teardown time.Duration
	for b.Loop() {
		id := randHex(64)
		start := time.Now()
		path, err := e.m.NewNetNS(id)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.m.Connect(ctx, DefaultNetwork, EndpointOptions{ContainerID: id, Name: "bench", NetNSPath: path,
			PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{}}}}); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := e.m.DisconnectAll(ctx, id); err != nil {
			b.Fatal(err)
		}
		if err := RemoveNetNS(path); err != nil {
			b.Fatal(err)
		}
		setup += mid.Sub(start)
		teardown += time.Since(mid)
	}
	b.ReportMetric(float64(setup.Microseconds())/float64(b.N)/1000, "ms-setup/op")
	b.ReportMetric(float64(teardown.Microseconds())/float64(b.N)/1000, "ms-teardown/op")
}
