// Command testclients builds the clients the integration tests drive
// berthd with into their caches, with the code the tests use
// (internal/testutil), so that `make integration` builds each once and
// before the tests' timeout starts:
//
//	testclients buildx       buildx into $BERTH_BUILDX_CACHE
//	testclients compose-v5   docker-compose v5 into $BERTH_COMPOSE_CACHE
//	testclients crictl       crictl into $BERTH_CRICTL_CACHE
//	testclients cri-dockerd  cri-dockerd into $BERTH_CRIDOCKERD_CACHE
//
// It prints each binary's path, and exits 1 when one cannot be built.
package main

import (
	"fmt"
	"os"

	"github.com/berth-project/berth/internal/testutil"
)

var clients = map[string]func() (string, error){
	"buildx":      testutil.BuildxBinary,
	"compose-v5":  testutil.ComposeV5Binary,
	"crictl":      testutil.CrictlBinary,
	"cri-dockerd": testutil.CriDockerdBinary,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testclients buildx|compose-v5|crictl|cri-dockerd...")
		os.Exit(2)
	}
	status := 0
	for _, name := range os.Args[1:] {
		build, ok := clients[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "testclients: unknown client %q\n", name)
			os.Exit(2)
		}
		bin, err := build()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testclients: %s: %v\n", name, err)
			status = 1
			continue
		}
		fmt.Printf("%s: %s\n", name, bin)
	}
	os.Exit(status)
}
