package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// psItem is what ps reads of a container in GET /containers/json: the
// rest of docker's answer (each network's endpoint settings, the host
// config, ...) is scanned past, not decoded. With 1,000 containers that is
// most of the answer's 600 KB.
type psItem struct {
	ID              string `json:"Id"`
	Names           []string
	Image           string
	ImageID         string
	Command         string
	Created         int64
	Ports           []container.PortSummary
	SizeRw          int64
	SizeRootFs      int64
	Labels          map[string]string
	State           container.ContainerState
	Status          string
	NetworkSettings *struct{ Networks map[string]skipJSON }
	Mounts          []container.MountPoint
}

// skipJSON takes any JSON value and keeps nothing of it.
type skipJSON struct{}

// UnmarshalJSON ignores the value.
func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// summary is the item as the container.Summary that newPsRow renders; its
// networks are only names.
func (it *psItem) summary() container.Summary {
	s := container.Summary{
		ID: it.ID, Names: it.Names, Image: it.Image, ImageID: it.ImageID, Command: it.Command,
		Created: it.Created, Ports: it.Ports, SizeRw: it.SizeRw, SizeRootFs: it.SizeRootFs,
		Labels: it.Labels, State: it.State, Status: it.Status, Mounts: it.Mounts,
	}
	if it.NetworkSettings != nil {
		nets := make(map[string]*network.EndpointSettings, len(it.NetworkSettings.Networks))
		for name := range it.NetworkSettings.Networks {
			nets[name] = nil
		}
		s.NetworkSettings = &container.NetworkSettingsSummary{Networks: nets}
	}
	return s
}

// listContainers is api.ContainerList decoding only what ps shows. It
// negotiates the API version as the client does (one ping), then sends the
// list request itself over the client's own dialer; any answer but 200 OK
// is asked again through api.ContainerList, for docker's error handling.
// It hands f each container in turn (f must not keep s), and calls reset
// when those handed so far are to be forgotten; tableOnly says that only
// the default table's columns are shown: those are read by eachPsTable,
// the rest not at all.
func listContainers(ctx context.Context, api *client.Client, opts client.ContainerListOptions, tableOnly bool,
	f func(s *container.Summary), reset func()) error {
	viaClient := func() error {
		reset()
		res, err := api.ContainerList(ctx, opts)
		for i := range res.Items {
			f(&res.Items[i])
		}
		return err
	}
	resp := listRequest(ctx, api, opts)
	if resp == nil {
		return viaClient()
	}
	defer resp.Body.Close()
	if tableOnly {
		// the table's rows are made as the items are read
		if err := eachPsTable(resp.Body, f); err != nil {
			// not what docker sends: the client's own decoding tells why
			return viaClient()
		}
		return nil
	}
	var items []psItem
	if err := json.NewDecoder(resp.Body).Decode(&items); err != nil {
		return err
	}
	for i := range items {
		s := items[i].summary()
		f(&s)
	}
	return nil
}

// listRequest sends the list request; nil when it could not be sent or the
// answer was not 200 OK.
func listRequest(ctx context.Context, api *client.Client, opts client.ContainerListOptions) *http.Response {
	host, err := client.ParseHostURL(api.DaemonHost())
	if err != nil {
		return nil
	}
	if _, err := api.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return nil // ContainerList reports it as docker does
	}
	q := url.Values{}
	if opts.All {
		q.Set("all", "1")
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Size {
		q.Set("size", "1")
	}
	if len(opts.Filters) > 0 {
		b, err := json.Marshal(opts.Filters)
		if err != nil {
			return nil
		}
		q.Set("filters", string(b))
	}
	p := host.Path + "/containers/json"
	if v := api.ClientVersion(); v != "" {
		p = host.Path + "/v" + strings.TrimPrefix(v, "v") + "/containers/json"
	}
	addr := host.Host
	if host.Scheme == "unix" || host.Scheme == "npipe" {
		addr = client.DummyHost
	}
	u := url.URL{Scheme: "http", Host: addr, Path: p, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil
	}
	req.Header.Set("User-Agent", "berth/"+Version)
	dial := api.Dialer()
	// one request on its own connection: DisableKeepAlives closes it with
	// the body
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	}
	return resp
}
