package api

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

// fakeNetworks is the fake backend's network store: the predefined
// bridge, host and none networks, plus user-defined ones, each with the
// containers connected to it. The zero value is ready; f.mu guards it.
type fakeNetworks struct {
	byID map[string]*fakeNetwork
}

type fakeNetwork struct {
	network.Inspect
	builtin bool
}

// initLocked adds the predefined networks on first use.
func (n *fakeNetworks) initLocked() {
	if n.byID != nil {
		return
	}
	n.byID = make(map[string]*fakeNetwork)
	for _, name := range []string{"bridge", "host", "none"} {
		driver := name
		if name == "none" {
			driver = "null"
		}
		n.addLocked(name, network.CreateRequest{Driver: driver}, true)
	}
}

func (n *fakeNetworks) addLocked(name string, req network.CreateRequest, builtin bool) *fakeNetwork {
	id := fakeDigest("network " + name)
	nw := &fakeNetwork{builtin: builtin, Inspect: network.Inspect{
		Network: network.Network{
			Name: name, ID: id, Created: time.Now(), Scope: "local", Driver: req.Driver,
			EnableIPv4: true, Internal: req.Internal, Attachable: req.Attachable,
			Options: req.Options, Labels: req.Labels,
		},
		Containers: map[string]network.EndpointResource{},
	}}
	if req.IPAM != nil {
		nw.IPAM = *req.IPAM
	}
	if nw.Options == nil {
		nw.Options = map[string]string{}
	}
	if nw.Labels == nil {
		nw.Labels = map[string]string{}
	}
	n.byID[id] = nw
	return nw
}

// lookupLocked finds a network by full name, full id or id prefix.
func (n *fakeNetworks) lookupLocked(ref string) (*fakeNetwork, error) {
	n.initLocked()
	if nw, ok := n.byID[ref]; ok {
		return nw, nil
	}
	for _, nw := range n.byID {
		if nw.Name == ref {
			return nw, nil
		}
	}
	for id, nw := range n.byID {
		if strings.HasPrefix(id, ref) {
			return nw, nil
		}
	}
	return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", ref))
}

// matches applies docker's network list filters.
func (nw *fakeNetwork) matches(filters Filters) bool {
	anyOf := func(key string, ok func(v string) bool) bool {
		vs := filters[key]
		return len(vs) == 0 || slices.ContainsFunc(vs, ok)
	}
	return anyOf("name", func(v string) bool { return strings.Contains(nw.Name, v) }) &&
		anyOf("id", func(v string) bool { return strings.HasPrefix(nw.ID, v) }) &&
		anyOf("driver", func(v string) bool { return nw.Driver == v }) &&
		anyOf("type", func(v string) bool { return (v == "builtin") == nw.builtin }) &&
		anyOf("dangling", func(v string) bool { return (v == "true") == (len(nw.Containers) == 0 && !nw.builtin) }) &&
		allLabels(nw.Labels, filters["label"])
}

func allLabels(labels map[string]string, want []string) bool {
	for _, l := range want {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

func (f *fakeBackend) NetworkList(ctx context.Context, filters Filters) ([]network.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.networks.initLocked()
	var out []network.Summary
	for _, nw := range f.networks.byID {
		if nw.matches(filters) {
			out = append(out, network.Summary{Network: nw.Network})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeBackend) NetworkInspect(ctx context.Context, name string, verbose bool) (*network.Inspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	nw, err := f.networks.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	out := nw.Inspect
	return &out, nil
}

func (f *fakeBackend) NetworkCreate(ctx context.Context, req network.CreateRequest) (*network.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.networks.initLocked()
	if req.Name == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("network name cannot be empty")
	}
	for _, nw := range f.networks.byID {
		if nw.Name != req.Name {
			continue
		}
		if nw.builtin {
			return nil, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("operation is not permitted on predefined %s network ", req.Name))
		}
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("network with name %s already exists", req.Name))
	}
	if req.Driver == "" {
		req.Driver = "bridge"
	}
	nw := f.networks.addLocked(req.Name, req, false)
	return &network.CreateResponse{ID: nw.ID}, nil
}

func (f *fakeBackend) NetworkRemove(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	nw, err := f.networks.lookupLocked(name)
	if err != nil {
		return err
	}
	if nw.builtin {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("%s is a pre-defined network and cannot be removed", nw.Name))
	}
	if len(nw.Containers) > 0 {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("error while removing network: network %s has active endpoints (name:%q id:%q)", nw.Name, nw.Name, nw.ID[:12]))
	}
	delete(f.networks.byID, nw.ID)
	return nil
}

func (f *fakeBackend) NetworkPrune(ctx context.Context, filters Filters) (*network.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.networks.initLocked()
	report := &network.PruneReport{}
	for id, nw := range f.networks.byID {
		if nw.builtin || len(nw.Containers) > 0 || !allLabels(nw.Labels, filters["label"]) {
			continue
		}
		delete(f.networks.byID, id)
		report.NetworksDeleted = append(report.NetworksDeleted, nw.Name)
	}
	sort.Strings(report.NetworksDeleted)
	return report, nil
}

func (f *fakeBackend) NetworkConnect(ctx context.Context, name string, req network.ConnectRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	nw, err := f.networks.lookupLocked(name)
	if err != nil {
		return err
	}
	c, err := f.containerLocked(req.Container)
	if err != nil {
		return err
	}
	if _, ok := nw.Containers[c.id]; ok {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("endpoint with name %s already exists in network %s", c.name, nw.Name))
	}
	ep := network.EndpointResource{Name: c.name, EndpointID: fakeDigest("endpoint " + c.id + nw.ID)}
	if cfg := req.EndpointConfig; cfg != nil && cfg.IPAMConfig != nil && cfg.IPAMConfig.IPv4Address.IsValid() {
		ep.IPv4Address = netip.PrefixFrom(cfg.IPAMConfig.IPv4Address, 24)
	}
	nw.Containers[c.id] = ep
	return nil
}

func (f *fakeBackend) NetworkDisconnect(ctx context.Context, name string, req network.DisconnectRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	nw, err := f.networks.lookupLocked(name)
	if err != nil {
		return err
	}
	c, err := f.containerLocked(req.Container)
	if err != nil {
		return err
	}
	if _, ok := nw.Containers[c.id]; !ok {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("container %s is not connected to network %s", c.id, nw.Name))
	}
	delete(nw.Containers, c.id)
	return nil
}
