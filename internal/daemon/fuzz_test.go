package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/network/networktest"
)

// FuzzContainerCreate decodes container-create bodies as the API does and
// creates them with the real daemon over its fakes (a v1 host that can
// enforce every limit): each is created, inspected and removed, or refused
// with an error of a class the API answers with a 4xx (or a 501 for what
// berth does not do yet), never an unclassified one, which would be a 500.
func FuzzContainerCreate(f *testing.F) {
	for _, b := range []string{
		`{"Image":"busybox","Cmd":["true"],"HostConfig":{"NetworkMode":"none"}}`,
		`{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"::1","HostPort":"8080-8081"}],"x/y":[{}]},"Binds":["/a:/b:ro","v:/c"],"Mounts":[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":-1}}]}}`,
		`{"Image":"busybox","Healthcheck":{"Test":["CMD"],"Interval":-1,"Retries":-1},"WorkingDir":"rel","StopSignal":"SIGRTMAX+99"}`,
		`{"Image":"busybox","HostConfig":{"Memory":-1,"MemorySwap":-2,"CpuShares":-5,"NanoCpus":1e18,"CpusetCpus":"0-99999999999","BlkioWeight":9999,"PidsLimit":-7}}`,
		`{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1},"AutoRemove":true}}`,
		`{"Image":"busybox","HostConfig":{"NetworkMode":"container:nope","IpcMode":"container:x","PidMode":"host","UTSMode":"bogus"}}`,
		`{"Image":"busybox","HostConfig":{"CapAdd":["ALL","CAP_BOGUS"],"CapDrop":["all"],"SecurityOpt":["seccomp=unconfined","label=x","no-new-privileges:maybe"],"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"rel","CgroupPermissions":"rwmx"}]}}`,
		`{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"-1","max-file":"0"}},"Ulimits":[{"Name":"nofile","Soft":2,"Hard":1}],"ShmSize":-1,"Sysctls":{"kernel.x":"1"},"Tmpfs":{"/t":"size=-1"}}}`,
		`{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"front":{"IPAMConfig":{"IPv4Address":"10.0.0.300"},"Aliases":[""]},"back":{"MacAddress":"zz"}}}}`,
		`{"Image":"busybox","ExposedPorts":{"99999/tcp":{},"80/bogus":{}},"Volumes":{"rel":{},"/":{}},"User":"a:b:c","Env":["=x",""]}`,
		`{"Image":"nope"}`, `{"Image":""}`, `{"Image":"busybox","HostConfig":{"VolumesFrom":["nope:ro"],"Links":["a:b:c"]}}`,
	} {
		f.Add([]byte(b), "name")
	}
	f.Add([]byte(`{"Image":"busybox"}`), "/bad name")
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		var req containertypes.CreateRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&req); err != nil || req.Config == nil {
			return // the API answers these with a 400 (see api.FuzzContainerCreate)
		}
		e := newEnv(t)
		e.d.host = v1Host()
		ctx := context.Background()
		resp, err := e.d.ContainerCreate(ctx, name, &req)
		if err != nil {
			checkClass(t, "create", body, err)
			return
		}
		if _, err := e.d.ContainerInspect(ctx, resp.ID, true); err != nil {
			t.Fatalf("%q: inspect of the created container: %v", body, err)
		}
		if err := e.d.ContainerRemove(ctx, resp.ID, true, true, false); err != nil {
			checkClass(t, "remove", body, err)
		}
	})
}

// checkClass fails on an error the API would answer with a 500.
func checkClass(t *testing.T, op string, body []byte, err error) {
	t.Helper()
	switch {
	case errdefs.IsInvalidArgument(err), errdefs.IsNotFound(err), errdefs.IsConflict(err), errdefs.IsAlreadyExists(err),
		errdefs.IsPermissionDenied(err), errdefs.IsNotImplemented(err):
	default:
		t.Fatalf("%s %q: unclassified error (a 500): %v", op, body, err)
	}
}

// FuzzNetworkCreate decodes network-create bodies as the API does and
// creates them with the real daemon and network manager over the
// recording driver and firewall: each is created, inspected and removed,
// or refused with a 4xx class.
func FuzzNetworkCreate(f *testing.F) {
	for _, b := range []string{
		`{"Name":"n","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.1.0.0/16","IPRange":"10.1.1.0/24","Gateway":"10.1.0.1","AuxiliaryAddresses":{"a":"10.1.0.2"}}]}}`,
		`{"Name":"n","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00::/64","Gateway":"fd00::1"},{"Subnet":"10.2.0.0/31"}]}}`,
		`{"Name":"n","IPAM":{"Config":[{"Subnet":"10.3.0.0/24","Gateway":"10.4.0.1","IPRange":"10.3.0.0/8"}]}}`,
		`{"Name":"n","IPAM":{"Config":[{"Subnet":"10.3.0.0/32","AuxiliaryAddresses":{"a":"10.3.0.0","b":"::1"}}]}}`,
		`{"Name":"n","IPAM":{"Config":[{"Subnet":"::ffff:10.0.0.0/104"}]},"EnableIPv6":true}`,
		`{"Name":"n","IPAM":{"Config":[{"Gateway":"10.0.0.1"}]}}`, `{"Name":"n","EnableIPv6":true}`,
		`{"Name":"n","Options":{"com.docker.network.bridge.name":"a/b","com.docker.network.driver.mtu":"-1"}}`,
		`{"Name":"bridge"}`, `{"Name":"h","Driver":"host"}`, `{"Name":"m","Driver":"macvlan"}`, `{"Name":""}`,
		`{"Name":"n","Labels":{"a":"b"},"Internal":true,"Attachable":true,"Scope":"swarm","ConfigOnly":true}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req networktypes.CreateRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return // the API answers these with a 400 (see api.FuzzNetworkCreate)
		}
		e := newEnv(t)
		m, err := network.New(context.Background(), network.Config{
			Root: filepath.Join(e.dataRoot, "network"), ExecRoot: e.execRoot, DefaultBridge: "fake0",
			Driver: networktest.NewDriver(), Firewall: &networktest.Firewall{}, DNSUpstreams: []string{},
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close(context.Background()) })
		e.manager = m
		ctx := context.Background()
		resp, err := e.d.NetworkCreate(ctx, req)
		if err != nil {
			checkClass(t, "create", body, err)
			return
		}
		if _, err := e.d.NetworkInspect(ctx, resp.ID, true); err != nil {
			t.Fatalf("%q: inspect of the created network: %v", body, err)
		}
		if err := e.d.NetworkRemove(ctx, resp.ID); err != nil {
			checkClass(t, "remove", body, err)
		}
	})
}
