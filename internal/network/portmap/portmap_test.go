package portmap

import (
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

func port(s string) network.Port { return network.MustParsePort(s) }

func TestRequests(t *testing.T) {
	tests := []struct {
		name       string
		bindings   network.PortMap
		exposed    network.PortSet
		publishAll bool
		ipv6       bool
		want       []Request
		wantErr    bool
	}{
		{
			name:     "fixed port",
			bindings: network.PortMap{port("80/tcp"): {{HostPort: "8080"}}},
			want:     []Request{{Proto: "tcp", ContainerPort: 80, HostPortStart: 8080, HostPortEnd: 8080}},
		},
		{
			name:     "host ip and udp",
			bindings: network.PortMap{port("53/udp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "5353"}}},
			want:     []Request{{Proto: "udp", ContainerPort: 53, HostIP: netip.MustParseAddr("127.0.0.1"), HostPortStart: 5353, HostPortEnd: 5353}},
		},
		{
			name:     "random and range",
			bindings: network.PortMap{port("80/tcp"): {{}}, port("81/tcp"): {{HostPort: "9000-9005"}}},
			want: []Request{
				{Proto: "tcp", ContainerPort: 80},
				{Proto: "tcp", ContainerPort: 81, HostPortStart: 9000, HostPortEnd: 9005},
			},
		},
		{
			name:       "publish all skips bound ports",
			bindings:   network.PortMap{port("80/tcp"): {{HostPort: "8080"}}},
			exposed:    network.PortSet{port("80/tcp"): {}, port("443/tcp"): {}},
			publishAll: true,
			want: []Request{
				{Proto: "tcp", ContainerPort: 80, HostPortStart: 8080, HostPortEnd: 8080},
				{Proto: "tcp", ContainerPort: 443},
			},
		},
		{
			name:     "ipv6 unspecified dropped",
			bindings: network.PortMap{port("80/tcp"): {{HostIP: netip.IPv6Unspecified(), HostPort: "8080"}, {HostIP: netip.IPv4Unspecified(), HostPort: "8080"}}},
			want:     []Request{{Proto: "tcp", ContainerPort: 80, HostPortStart: 8080, HostPortEnd: 8080}},
		},
		{
			name:     "ipv6: no host ip publishes on both, the twin after its ipv4 request",
			bindings: network.PortMap{port("80/tcp"): {{}}, port("53/udp"): {{HostPort: "5353"}}},
			ipv6:     true,
			want: []Request{
				{Proto: "tcp", ContainerPort: 80},
				{Proto: "tcp", ContainerPort: 80, HostIP: netip.IPv6Unspecified(), Twin: true},
				{Proto: "udp", ContainerPort: 53, HostPortStart: 5353, HostPortEnd: 5353},
				{Proto: "udp", ContainerPort: 53, HostIP: netip.IPv6Unspecified(), HostPortStart: 5353, HostPortEnd: 5353, Twin: true},
			},
		},
		{
			name:     "ipv6: explicit addresses of each family",
			bindings: network.PortMap{port("80/tcp"): {{HostIP: netip.MustParseAddr("::1"), HostPort: "8080"}, {HostIP: netip.IPv4Unspecified(), HostPort: "8081"}}},
			ipv6:     true,
			want: []Request{
				{Proto: "tcp", ContainerPort: 80, HostIP: netip.MustParseAddr("::1"), HostPortStart: 8080, HostPortEnd: 8080},
				{Proto: "tcp", ContainerPort: 80, HostPortStart: 8081, HostPortEnd: 8081},
			},
		},
		{
			name:       "ipv6: publish all",
			exposed:    network.PortSet{port("443/tcp"): {}},
			publishAll: true,
			ipv6:       true,
			want:       []Request{{Proto: "tcp", ContainerPort: 443}, {Proto: "tcp", ContainerPort: 443, HostIP: netip.IPv6Unspecified(), Twin: true}},
		},
		{name: "ipv6 host address without ipv6", bindings: network.PortMap{port("80/tcp"): {{HostIP: netip.MustParseAddr("::1")}}}, wantErr: true},
		{name: "bad host port", bindings: network.PortMap{port("80/tcp"): {{HostPort: "x"}}}, wantErr: true},
		{name: "reversed range", bindings: network.PortMap{port("80/tcp"): {{HostPort: "9-8"}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Requests(tt.bindings, tt.exposed, tt.publishAll, tt.ipv6)
			if tt.wantErr {
				if !errdefs.IsInvalidArgument(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

type closer struct{ closed *int }

func (c closer) Close() error { *c.closed++; return nil }

func TestAllocator(t *testing.T) {
	closed := 0
	hostBusy := map[uint16]bool{40001: true}
	reserve := func(b Binding) (io.Closer, error) {
		if hostBusy[b.HostPort] {
			return nil, errors.New("address already in use")
		}
		return closer{&closed}, nil
	}
	a := NewAllocator(40000, 40003, reserve)

	b, err := a.Allocate("c1", []Request{{Proto: "tcp", ContainerPort: 80}, {Proto: "tcp", ContainerPort: 81}})
	if err != nil {
		t.Fatal(err)
	}
	if b[0].HostPort != 40000 || b[1].HostPort != 40002 {
		t.Fatalf("random ports = %+v (40001 is busy on the host)", b)
	}
	// a fixed port held by another container
	_, err = a.Allocate("c2", []Request{{Proto: "tcp", ContainerPort: 80, HostPortStart: 40000, HostPortEnd: 40000}})
	if !errdefs.IsInternal(err) || err.Error() != "Bind for 0.0.0.0:40000 failed: port is already allocated" {
		t.Fatalf("conflict: %v", err)
	}
	// same port, other protocol is fine; a specific IP conflicts with 0.0.0.0
	if _, err := a.Allocate("c2", []Request{{Proto: "udp", ContainerPort: 80, HostPortStart: 40000, HostPortEnd: 40000}}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Allocate("c3", []Request{{Proto: "tcp", ContainerPort: 80, HostIP: netip.MustParseAddr("127.0.0.1"), HostPortStart: 40002, HostPortEnd: 40002}})
	if !errdefs.IsInternal(err) {
		t.Fatalf("ip vs any: %v", err)
	}
	// host process holds the port
	_, err = a.Allocate("c3", []Request{{Proto: "tcp", ContainerPort: 80, HostPortStart: 40001, HostPortEnd: 40001}})
	if !errdefs.IsInternal(err) || err.Error() != "Error starting userland proxy: address already in use" {
		t.Fatalf("host busy: %v", err)
	}
	// all or nothing: the first binding is released when the second fails
	_, err = a.Allocate("c3", []Request{
		{Proto: "tcp", ContainerPort: 80, HostPortStart: 40003, HostPortEnd: 40003},
		{Proto: "tcp", ContainerPort: 81, HostPortStart: 40000, HostPortEnd: 40000},
	})
	if err == nil {
		t.Fatal("want conflict")
	}
	if _, err := a.Allocate("c4", []Request{{Proto: "tcp", ContainerPort: 80, HostPortStart: 40003, HostPortEnd: 40003}}); err != nil {
		t.Fatalf("port of a failed allocation not released: %v", err)
	}
	// range exhausted
	if _, err := a.Allocate("c5", []Request{{Proto: "tcp", ContainerPort: 80}}); !errdefs.IsUnavailable(err) {
		t.Fatalf("exhausted: %v", err)
	}
	// [::] is held apart from 0.0.0.0: the twin gets the same port
	a6 := NewAllocator(41000, 41010, nil)
	got, err := a6.Allocate("v6", []Request{{Proto: "tcp", ContainerPort: 80}, {Proto: "tcp", ContainerPort: 80, HostIP: netip.IPv6Unspecified(), Twin: true}})
	if err != nil || len(got) != 2 || got[0].HostPort != got[1].HostPort || got[1].String() != "[::]:41000" {
		t.Fatalf("twin = %+v %v", got, err)
	}
	if _, err := a6.Allocate("v6b", []Request{{Proto: "tcp", ContainerPort: 80, HostIP: netip.MustParseAddr("::1"), HostPortStart: 41000, HostPortEnd: 41000}}); !errdefs.IsInternal(err) {
		t.Fatalf("::1 vs [::]: %v", err)
	}
	if _, err := a6.Allocate("v4", []Request{{Proto: "tcp", ContainerPort: 80, HostIP: netip.MustParseAddr("127.0.0.1"), HostPortStart: 41001, HostPortEnd: 41001}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a6.Allocate("v6c", []Request{{Proto: "tcp", ContainerPort: 80, HostIP: netip.MustParseAddr("::1"), HostPortStart: 41001, HostPortEnd: 41001}}); err != nil {
		t.Fatalf("::1 next to 127.0.0.1: %v", err)
	}

	before := closed
	a.Release("c1")
	a.Release("c1")
	if closed-before != 2 {
		t.Fatalf("closed %d reservations, want 2", closed-before)
	}
	if _, err := a.Allocate("c5", []Request{{Proto: "tcp", ContainerPort: 80, HostPortStart: 40000, HostPortEnd: 40002}}); err != nil {
		t.Fatalf("range after release: %v", err)
	}
}

func TestPortMap(t *testing.T) {
	m := PortMap([]Binding{{Proto: "tcp", HostPort: 8080, ContainerPort: 80}}, network.PortSet{port("80/tcp"): {}, port("53/udp"): {}})
	if got := m[port("80/tcp")]; len(got) != 1 || got[0].HostIP.String() != "0.0.0.0" || got[0].HostPort != "8080" {
		t.Fatalf("80/tcp = %+v", got)
	}
	if got, ok := m[port("53/udp")]; !ok || got != nil {
		t.Fatalf("53/udp = %+v %v", got, ok)
	}
}
