package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
)

// addNetworkCommands registers the `network` group (create, ls, inspect,
// rm, prune, connect, disconnect) and the top-level `port`.
func addNetworkCommands(root *cobra.Command, c *Cli) {
	group := newGroupCommand(c, "network", "Manage networks")
	group.AddCommand(
		newNetworkConnectCommand(c),
		newNetworkCreateCommand(c),
		newNetworkDisconnectCommand(c),
		newNetworkInspectCommand(c),
		newNetworkListCommand(c),
		newNetworkPruneCommand(c),
		newNetworkRemoveCommand(c),
	)
	root.AddCommand(group, newPortCommand(c))
}

// networkCreateOptions are the flags of `network create`.
type networkCreateOptions struct {
	driver, scope, configFrom, ipamDriver string
	driverOpts, ipamOpts, auxAddresses    keyValueOpt
	labels                                listOpt
	internal, attachable, ingress         bool
	configOnly, ipv4, ipv6                bool
	subnets                               []string
	ipRanges                              []net.IPNet
	gateways                              []net.IP
}

// newNetworkCreateCommand makes `network create`, which prints the new
// network's id.
func newNetworkCreateCommand(c *Cli) *cobra.Command {
	var o networkCreateOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ipam, err := networkIPAM(o.subnets, o.ipRanges, o.gateways, o.auxAddresses.values)
			if err != nil {
				return err
			}
			ipam.Driver, ipam.Options = o.ipamDriver, o.ipamOpts.values
			req := client.NetworkCreateOptions{
				Driver:     o.driver,
				Scope:      o.scope,
				IPAM:       ipam,
				Internal:   o.internal,
				Attachable: o.attachable,
				Ingress:    o.ingress,
				ConfigOnly: o.configOnly,
				ConfigFrom: o.configFrom,
				Options:    o.driverOpts.values,
				Labels:     labelMap(o.labels.values),
			}
			// Sent only when given, so the daemon's defaults apply.
			if cmd.Flags().Changed("ipv4") {
				req.EnableIPv4 = &o.ipv4
			}
			if cmd.Flags().Changed("ipv6") {
				req.EnableIPv6 = &o.ipv6
			}
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.NetworkCreate(ctx, args[0], req)
			if err != nil {
				return err
			}
			for _, w := range res.Warning {
				fmt.Fprintln(c.Err, "WARNING:", w)
			}
			fmt.Fprintln(c.Out, res.ID)
			return nil
		},
	}
	o.labels.validate = validateNetworkLabel
	flags := cmd.Flags()
	flags.StringVarP(&o.driver, "driver", "d", "bridge", "Driver to manage the Network")
	flags.VarP(&o.driverOpts, "opt", "o", "Set driver specific options")
	flags.Var(&o.labels, "label", "Set metadata on a network")
	flags.BoolVar(&o.internal, "internal", false, "Restrict external access to the network")
	flags.BoolVar(&o.ipv4, "ipv4", true, "Enable or disable IPv4 address assignment")
	flags.BoolVar(&o.ipv6, "ipv6", false, "Enable or disable IPv6 address assignment")
	flags.BoolVar(&o.attachable, "attachable", false, "Enable manual container attachment")
	flags.BoolVar(&o.ingress, "ingress", false, "Create swarm routing-mesh network")
	flags.StringVar(&o.scope, "scope", "", "Control the network's scope")
	flags.BoolVar(&o.configOnly, "config-only", false, "Create a configuration only network")
	flags.StringVar(&o.configFrom, "config-from", "", "The network from which to copy the configuration")
	flags.StringVar(&o.ipamDriver, "ipam-driver", "default", "IP Address Management Driver")
	flags.StringSliceVar(&o.subnets, "subnet", []string{}, "Subnet in CIDR format that represents a network segment")
	flags.IPNetSliceVar(&o.ipRanges, "ip-range", nil, "Allocate container ip from a sub-range")
	flags.IPSliceVar(&o.gateways, "gateway", nil, "IPv4 or IPv6 Gateway for the master subnet")
	flags.Var(&o.auxAddresses, "aux-address", "Auxiliary IPv4 or IPv6 addresses used by Network driver")
	flags.Var(&o.ipamOpts, "ipam-opt", "Set IPAM driver specific options")
	return cmd
}

// validateNetworkLabel refuses labels with whitespace, as docker does.
func validateNetworkLabel(v string) (string, error) {
	if strings.ContainsAny(v, " \t\n") {
		return "", fmt.Errorf("label '%s' contains whitespaces", v)
	}
	return v, nil
}

// labelMap turns key=value strings into a map; a bare key maps to "".
func labelMap(labels []string) map[string]string {
	out := make(map[string]string, len(labels))
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		out[k] = v
	}
	return out
}

// networkIPAM groups the subnet, range, gateway and auxiliary address flags
// into one IPAM config per subnet, with docker's checks: every range,
// gateway and aux address must fall in exactly one given subnet, at most
// one range and one gateway per subnet, and subnets may not overlap.
func networkIPAM(subnets []string, ranges []net.IPNet, gateways []net.IP, aux map[string]string) (*network.IPAM, error) {
	if len(subnets) < len(ranges) || len(subnets) < len(gateways) {
		return nil, errors.New("every ip-range or gateway must have a corresponding subnet")
	}
	configs := make([]network.IPAMConfig, 0, len(subnets))
	for _, s := range subnets {
		if _, _, err := net.ParseCIDR(s); err != nil {
			return nil, fmt.Errorf("invalid subnet: %w", err)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		for _, other := range configs {
			if other.Subnet.Overlaps(p) {
				return nil, errors.New("multiple overlapping subnet configuration is not supported")
			}
		}
		configs = append(configs, network.IPAMConfig{Subnet: p, AuxAddress: map[string]netip.Addr{}})
	}
	// holder returns the config whose subnet contains a, or nil.
	holder := func(a netip.Addr) *network.IPAMConfig {
		for i := range configs {
			if configs[i].Subnet.Contains(a) {
				return &configs[i]
			}
		}
		return nil
	}
	for _, r := range ranges {
		addr, _ := netip.AddrFromSlice(r.IP)
		ones, _ := r.Mask.Size()
		prefix := netip.PrefixFrom(addr.Unmap(), ones)
		cfg := holder(prefix.Addr())
		if cfg == nil {
			return nil, fmt.Errorf("no matching subnet for range %s", r.String())
		}
		if cfg.IPRange.IsValid() {
			return nil, fmt.Errorf("cannot configure multiple ranges (%s, %s) on the same subnet (%s)", r.String(), cfg.IPRange, cfg.Subnet)
		}
		cfg.IPRange = prefix
	}
	for _, g := range gateways {
		addr, _ := netip.AddrFromSlice(g)
		addr = addr.Unmap()
		cfg := holder(addr)
		if cfg == nil {
			return nil, fmt.Errorf("no matching subnet for gateway %s", g)
		}
		if cfg.Gateway.IsValid() {
			return nil, fmt.Errorf("cannot configure multiple gateways (%s, %s) for the same subnet (%s)", g, cfg.Gateway, cfg.Subnet)
		}
		cfg.Gateway = addr
	}
	names := make([]string, 0, len(aux))
	for name := range aux {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if aux[name] == "" {
			continue
		}
		addr, err := netip.ParseAddr(aux[name])
		if err != nil {
			return nil, err
		}
		cfg := holder(addr)
		if cfg == nil {
			return nil, fmt.Errorf("no matching subnet for aux-address %s", aux[name])
		}
		cfg.AuxAddress[name] = addr
	}
	return &network.IPAM{Config: configs}, nil
}

// keyValueOpt is a repeatable key=value flag (docker's MapOpts); a bare
// key maps to "".
type keyValueOpt struct{ values map[string]string }

func (o *keyValueOpt) Set(v string) error {
	if o.values == nil {
		o.values = map[string]string{}
	}
	k, val, _ := strings.Cut(v, "=")
	o.values[k] = val
	return nil
}

func (o *keyValueOpt) String() string {
	if len(o.values) == 0 {
		return ""
	}
	parts := make([]string, 0, len(o.values))
	for k, v := range o.values {
		parts = append(parts, k+":"+v)
	}
	sort.Strings(parts)
	return "map[" + strings.Join(parts, " ") + "]"
}

func (o *keyValueOpt) Type() string { return "map" }

// Docker's `network ls` formats.
const (
	networkTable       = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
	networkQuietFormat = "{{.ID}}"
)

// newNetworkListCommand makes `network ls`.
func newNetworkListCommand(c *Cli) *cobra.Command {
	var (
		quiet, noTrunc bool
		formatFlag     string
		filters        = apiFilters{}
	)
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters(filters)})
			if err != nil {
				return err
			}
			sort.SliceStable(res.Items, func(i, j int) bool { return naturalLess(res.Items[i].Name, res.Items[j].Name) })
			rows := make([]any, 0, len(res.Items))
			for _, n := range res.Items {
				rows = append(rows, &networkRow{n: n, trunc: !noTrunc})
			}
			// Not formatRows: an empty list still needs this header.
			return format.Write(c.Out, networkFormat(formatFlag, quiet), rows, networkHeader())
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only display network IDs")
	flags.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate the output")
	flags.StringVar(&formatFlag, "format", "", listFormatHelp)
	flags.VarP(filters, "filter", "f", `Provide filter values (e.g. "driver=bridge")`)
	return cmd
}

// networkFormat picks the format of `network ls`: -q only replaces the
// default table, as in docker.
func networkFormat(source string, quiet bool) format.Format {
	switch source {
	case "", format.TableKey:
		if quiet {
			return networkQuietFormat
		}
		return networkTable
	}
	return format.Format(source)
}

// networkHeader titles the columns of `network ls`.
func networkHeader() format.Header {
	return format.Header{
		"ID":        "NETWORK ID",
		"Name":      "NAME",
		"Driver":    "DRIVER",
		"Scope":     "SCOPE",
		"IPv4":      "IPV4",
		"IPv6":      "IPV6",
		"Internal":  "INTERNAL",
		"Labels":    "LABELS",
		"CreatedAt": "CREATED AT",
	}
}

// networkRow is one line of `network ls`; its methods are the fields a
// --format template may use.
type networkRow struct {
	n     network.Summary
	trunc bool
}

// Headers titles the columns.
func (r *networkRow) Headers() map[string]string { return networkHeader() }

// MarshalJSON gives --format json docker's keys.
func (r *networkRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

// ID is the network id, shortened to 12 characters unless --no-trunc.
func (r *networkRow) ID() string {
	if r.trunc {
		return format.TruncateID(r.n.ID)
	}
	return r.n.ID
}

// Name is the network's name.
func (r *networkRow) Name() string { return r.n.Name }

// Driver is the network's driver.
func (r *networkRow) Driver() string { return r.n.Driver }

// Scope is the network's scope ("local").
func (r *networkRow) Scope() string { return r.n.Scope }

// IPv4 tells whether IPv4 is enabled.
func (r *networkRow) IPv4() string { return strconv.FormatBool(r.n.EnableIPv4) }

// IPv6 tells whether IPv6 is enabled.
func (r *networkRow) IPv6() string { return strconv.FormatBool(r.n.EnableIPv6) }

// Internal tells whether the network is cut off from the outside.
func (r *networkRow) Internal() string { return strconv.FormatBool(r.n.Internal) }

// Labels lists the labels as sorted key=value pairs.
func (r *networkRow) Labels() string { return joinLabels(r.n.Labels) }

// Label returns one label's value, for {{.Label "key"}}.
func (r *networkRow) Label(name string) string { return r.n.Labels[name] }

// CreatedAt is the creation time in Go's default layout, as docker prints.
func (r *networkRow) CreatedAt() string { return r.n.Created.String() }

// newNetworkInspectCommand makes `network inspect`.
func newNetworkInspectCommand(c *Cli) *cobra.Command {
	var (
		formatFlag string
		verbose    bool
	)
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			get := inspectNetwork(api)
			if verbose {
				get = func(ctx context.Context, ref string) (any, []byte, error) {
					res, err := api.NetworkInspect(ctx, ref, client.NetworkInspectOptions{Verbose: true})
					if err != nil {
						return nil, nil, err
					}
					return res.Network, res.Raw, nil
				}
			}
			return runInspect(ctx, c.Out, args, formatFlag, get)
		},
	}
	cmd.Flags().StringVarP(&formatFlag, "format", "f", "", inspectFormatHelp)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "Verbose output for diagnostics")
	return cmd
}

// newNetworkRemoveCommand makes `network rm`: each network removed is
// printed, each failure reported on stderr, and the command goes on; any
// failure makes the exit status 1.
func newNetworkRemoveCommand(c *Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			failed := false
			for _, name := range args {
				if _, err := api.NetworkRemove(ctx, name, client.NetworkRemoveOptions{}); err != nil {
					if force && cerrdefs.IsNotFound(err) {
						continue
					}
					fmt.Fprintln(c.Err, err)
					failed = true
					continue
				}
				fmt.Fprintln(c.Out, name)
			}
			if failed {
				return StatusError{Status: "exit status 1", StatusCode: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not error if the network does not exist")
	return cmd
}

// networkPruneWarning is docker's confirmation prompt.
const networkPruneWarning = "WARNING! This will remove all custom networks not used by at least one container."

// newNetworkPruneCommand makes `network prune`.
func newNetworkPruneCommand(c *Cli) *cobra.Command {
	return newPruneCommand(c, pruneCommand{
		short:      "Remove all unused networks",
		filterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		warning:    networkPruneWarning,
		pruner:     func(bool) pruner { return pruneNetworks },
	})
}

// newNetworkConnectCommand makes `network connect`.
func newNetworkConnectCommand(c *Cli) *cobra.Command {
	var (
		ip, ip6      net.IP
		aliases      []string
		links        listOpt
		linkLocalIPs []net.IP
		driverOpts   []string
		gwPriority   int
	)
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := keyValues(driverOpts)
			if err != nil {
				return err
			}
			ipam := &network.EndpointIPAMConfig{IPv4Address: toAddr(ip), IPv6Address: toAddr(ip6)}
			for _, a := range linkLocalIPs {
				ipam.LinkLocalIPs = append(ipam.LinkLocalIPs, toAddr(a))
			}
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			_, err = api.NetworkConnect(ctx, args[0], client.NetworkConnectOptions{
				Container: args[1],
				EndpointConfig: &network.EndpointSettings{
					IPAMConfig: ipam,
					Links:      links.values,
					Aliases:    aliases,
					DriverOpts: opts,
					GwPriority: gwPriority,
				},
			})
			return err
		},
	}
	flags := cmd.Flags()
	flags.IPVar(&ip, "ip", nil, `IPv4 address (e.g., "172.30.100.104")`)
	flags.IPVar(&ip6, "ip6", nil, `IPv6 address (e.g., "2001:db8::33")`)
	flags.Var(&links, "link", "Add link to another container")
	flags.StringSliceVar(&aliases, "alias", []string{}, "Add network-scoped alias for the container")
	flags.IPSliceVar(&linkLocalIPs, "link-local-ip", nil, "Add a link-local address for the container")
	flags.StringSliceVar(&driverOpts, "driver-opt", []string{}, "driver options for the network")
	flags.IntVar(&gwPriority, "gw-priority", 0, "Highest gw-priority provides the default gateway. Accepts positive and negative values.")
	return cmd
}

// keyValues parses --driver-opt values, refusing pairs without a key.
func keyValues(pairs []string) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errors.New("invalid key/value pair format in driver options")
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// toAddr converts a flag's net.IP, the zero Addr when unset.
func toAddr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// newNetworkDisconnectCommand makes `network disconnect`.
func newNetworkDisconnectCommand(c *Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			_, err = api.NetworkDisconnect(ctx, args[0], client.NetworkDisconnectOptions{Container: args[1], Force: force})
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the container to disconnect from a network")
	return cmd
}
