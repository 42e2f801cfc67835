package cli

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// newPortCommand makes `port` (and `container port`): the published ports
// of a container, from its inspect data.
func newPortCommand(c *Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.ContainerInspect(ctx, args[0], client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			var ports network.PortMap
			if ns := res.Container.NetworkSettings; ns != nil {
				ports = ns.Ports
			}
			private := ""
			if len(args) > 1 {
				private = args[1]
			}
			lines, err := portLines(ports, args[0], private)
			if err != nil {
				return err
			}
			if len(lines) > 0 {
				fmt.Fprintln(c.Out, strings.Join(lines, "\n"))
			}
			return nil
		},
	}
	return cmd
}

// portLines renders a container's published ports as docker port does:
// "80/tcp -> 0.0.0.0:32768" for every binding, or only the host addresses
// of private ("80", "53/udp") when it is set; naturally sorted.
func portLines(ports network.PortMap, ctr, private string) ([]string, error) {
	var out []string
	if private != "" {
		p, err := network.ParsePort(private)
		if err != nil {
			return nil, err
		}
		bindings := ports[p]
		if len(bindings) == 0 {
			return nil, fmt.Errorf("Error: No public port '%s' published for %s", private, ctr) //nolint:staticcheck // docker's exact message
		}
		for _, b := range bindings {
			out = append(out, bindingAddr(b))
		}
	} else {
		for p, bindings := range ports {
			for _, b := range bindings {
				out = append(out, p.String()+" -> "+bindingAddr(b))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out, nil
}

// bindingAddr is host:port, bracketing IPv6 addresses ("[::]:32768").
func bindingAddr(b network.PortBinding) string {
	ip := ""
	if b.HostIP.IsValid() {
		ip = b.HostIP.String()
	}
	return net.JoinHostPort(ip, b.HostPort)
}

// naturalLess orders strings with embedded numbers by their value, the way
// docker sorts port lines and network names ("9/tcp" before "53/udp").
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da == 0 || db == 0 {
			if a[0] != b[0] {
				return a[0] < b[0]
			}
			a, b = a[1:], b[1:]
			continue
		}
		na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
		if len(na) != len(nb) {
			return len(na) < len(nb)
		}
		if na != nb {
			return na < nb
		}
		// Equal values: fewer leading zeros first.
		if da != db {
			return da < db
		}
		a, b = a[da:], b[db:]
	}
	return len(a) < len(b)
}

// leadingDigits counts the ASCII digits at the start of s.
func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// rangeArgs checks that between min and max arguments are given, with
// docker's message.
func rangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= min && len(args) <= max {
			return nil
		}
		return fmt.Errorf("%[1]s: '%[2]s' requires at least %[3]d and at most %[4]d %[5]s\n\nUsage:  %[6]s\n\nRun '%[2]s --help' for more information",
			cmd.Root().Name(), cmd.CommandPath(), min, max, pluralize("argument", max), cmd.UseLine())
	}
}
