package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/distribution/reference"
	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/stringid"
	"github.com/spf13/cobra"
)

type psOptions struct {
	quiet, size, all, noTrunc, latest bool
	last                              int
	format                            string
	filters                           listOpt
}

func newPsCommand(c *Cli) *cobra.Command {
	var opts psOptions
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPs(cmd.Context(), c, &opts, cmd.Flags().Changed("size"))
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.quiet, "quiet", "q", false, "Only display container IDs")
	flags.BoolVarP(&opts.size, "size", "s", false, "Display total file sizes")
	flags.BoolVarP(&opts.all, "all", "a", false, "Show all containers (default shows just running)")
	flags.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	flags.BoolVarP(&opts.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	flags.IntVarP(&opts.last, "last", "n", -1, "Show n last created containers (includes all states)")
	flags.StringVar(&opts.format, "format", "", "Format output using a custom template:\n"+
		"'table':            Print output in table format with column headers (default)\n"+
		"'table TEMPLATE':   Print output in table format using the given Go template\n"+
		"'json':             Print in JSON format\n"+
		"'TEMPLATE':         Print output using the given Go template.")
	opts.filters.validate = validateFilter
	flags.VarP(&opts.filters, "filter", "f", "Filter output based on conditions provided")
	return cmd
}

func validateFilter(v string) (string, error) {
	if k, _, ok := strings.Cut(v, "="); !ok || strings.TrimSpace(k) == "" {
		return "", fmt.Errorf("bad format of filter (expected name=value)")
	}
	return v, nil
}

func runPs(ctx context.Context, c *Cli, opts *psOptions, sizeChanged bool) error {
	if opts.format != "" && opts.quiet {
		fmt.Fprintln(c.Err, "WARNING: Ignoring custom format, because both --format and --quiet are set.")
	}
	list := client.ContainerListOptions{All: opts.all, Limit: opts.last, Size: opts.size, Filters: client.Filters{}}
	if opts.latest && opts.last == -1 {
		list.Limit = 1
	}
	for _, f := range opts.filters.values {
		k, v, _ := strings.Cut(f, "=")
		list.Filters.Add(strings.TrimSpace(k), v)
	}
	// A template showing .Size asks the daemon for sizes, unless --size=false.
	if opts.format != "" && !opts.quiet && !sizeChanged && strings.Contains(opts.format, ".Size") {
		list.Size = true
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	var rows []psRow
	now := time.Now()
	err = listContainers(ctx, api, list, opts.quiet || opts.format == "" || opts.format == "table",
		func(s *container.Summary) { rows = append(rows, newPsRow(*s, !opts.noTrunc, now)) },
		func() { rows = rows[:0] })
	if err != nil {
		return err
	}
	// one write for the whole list, not one per cell: with 1,000
	// containers the table is some 14,000 cells
	out := bufio.NewWriter(c.Out)
	if err := writePs(out, opts.format, opts.quiet, list.Size, rows); err != nil {
		return err
	}
	return out.Flush()
}

// writePs renders the rows: ids with -q, docker's default table for "" or
// "table", anything else through the shared --format renderer.
func writePs(w io.Writer, format string, quiet, size bool, rows []psRow) error {
	switch {
	case quiet:
		for _, r := range rows {
			fmt.Fprintln(w, r.ID)
		}
		return nil
	case format == "" || format == "table":
		return writePsTable(w, rows, size)
	}
	anyRows := make([]any, len(rows))
	for i, r := range rows {
		anyRows[i] = r
	}
	return formatRows(w, format, anyRows)
}

// writePsTable writes docker's default ps table: columns padded to the widest
// cell plus three spaces, at least ten wide.
func writePsTable(w io.Writer, rows []psRow, size bool) error {
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	header := "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES"
	if size {
		header += "\tSIZE"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		line := strings.Join([]string{r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names}, "\t")
		if size {
			line += "\t" + r.Size
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// psRow is one container as --format templates see it: docker's
// placeholders (.ID, .Image, .Command, ...) plus .Label "key". The fields are
// in alphabetical order so that `json` prints docker's key order.
type psRow struct {
	Command      string
	CreatedAt    string
	ID           string
	Image        string
	Labels       string
	LocalVolumes string
	Mounts       string
	Names        string
	Networks     string
	Platform     any
	Ports        string
	RunningFor   string
	Size         string
	State        string
	Status       string

	labels map[string]string
}

// Label returns the value of one label, for {{.Label "key"}}.
func (r psRow) Label(name string) string { return r.labels[name] }

// newPsRow renders a container summary the way docker ps shows it; trunc
// shortens ids, commands and mount names. now anchors "3 seconds ago".
func newPsRow(s container.Summary, trunc bool, now time.Time) psRow {
	// In now's zone: the local one in use, a fixed one in tests.
	created := time.Unix(s.Created, 0).In(now.Location())
	r := psRow{
		Command:      strconv.Quote(s.Command),
		CreatedAt:    created.String(),
		ID:           s.ID,
		Image:        psImage(s, trunc),
		Labels:       joinLabels(s.Labels),
		LocalVolumes: strconv.Itoa(countLocalVolumes(s.Mounts)),
		Mounts:       joinMounts(s.Mounts, trunc),
		Names:        psNames(s.Names, trunc),
		Networks:     joinNetworks(s.NetworkSettings),
		Ports:        displayPorts(s.Ports),
		RunningFor:   units.HumanDuration(now.UTC().Sub(created)) + " ago",
		Size:         psSize(s),
		State:        string(s.State),
		Status:       s.Status,
		labels:       s.Labels,
	}
	if trunc {
		r.ID = stringid.TruncateID(s.ID)
		r.Command = strconv.Quote(ellipsis(s.Command, 20))
	}
	return r
}

// psImages remembers psImage's truncated names: a list's containers
// mostly share a few images, and parsing a reference costs some
// microseconds of regexp matching, a thousand times over.
var psImages struct {
	sync.Mutex
	names map[[2]string]string
}

func psImage(s container.Summary, trunc bool) string {
	if s.Image == "" {
		return "<no image>"
	}
	if !trunc {
		return s.Image
	}
	key := [2]string{s.Image, s.ImageID}
	psImages.Lock()
	defer psImages.Unlock()
	if name, ok := psImages.names[key]; ok {
		return name
	}
	name := truncImage(s)
	if psImages.names == nil || len(psImages.names) > 1024 {
		psImages.names = map[[2]string]string{}
	}
	psImages.names[key] = name
	return name
}

// truncImage is ps's IMAGE column: a short id for an image known by its
// id, else the reference without its digest.
func truncImage(s container.Summary) string {
	if t := stringid.TruncateID(s.ImageID); t == stringid.TruncateID(s.Image) {
		return t
	}
	ref, err := reference.ParseNormalizedNamed(s.Image)
	if err != nil {
		return s.Image
	}
	// Drop the digest, keep the tag when there is one.
	if tagged, ok := ref.(reference.NamedTagged); ok {
		if t, err := reference.WithTag(reference.TrimNamed(tagged), tagged.Tag()); err == nil {
			return reference.FamiliarString(t)
		}
		return s.Image
	}
	return reference.FamiliarString(reference.TrimNamed(ref))
}

// psNames strips the API's leading slash; truncated, it keeps only the
// container's own name, not the legacy link aliases ("/other/alias").
func psNames(names []string, trunc bool) string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.TrimPrefix(n, "/"))
	}
	if trunc {
		for _, n := range out {
			if !strings.Contains(n, "/") {
				return n
			}
		}
	}
	return strings.Join(out, ",")
}

func psSize(s container.Summary) string {
	rw := units.HumanSizeWithPrecision(float64(s.SizeRw), 3)
	if s.SizeRootFs > 0 {
		return fmt.Sprintf("%s (virtual %s)", rw, units.HumanSizeWithPrecision(float64(s.SizeRootFs), 3))
	}
	return rw
}

func joinLabels(labels map[string]string) string {
	out := make([]string, 0, len(labels))
	for k, v := range labels {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func joinMounts(mounts []container.MountPoint, trunc bool) string {
	out := make([]string, 0, len(mounts))
	for _, m := range mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if trunc {
			name = ellipsis(name, 15)
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

func countLocalVolumes(mounts []container.MountPoint) int {
	n := 0
	for _, m := range mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return n
}

func joinNetworks(ns *container.NetworkSettingsSummary) string {
	if ns == nil {
		return ""
	}
	out := make([]string, 0, len(ns.Networks))
	for k := range ns.Networks {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// displayPorts renders ports like docker ps: consecutive ports with the same
// protocol and host address grouped into ranges ("0.0.0.0:8000-8001->8000-8001/tcp"),
// remapped ports listed last ("0.0.0.0:8080->80/tcp").
func displayPorts(ports []container.PortSummary) string {
	ports = slices.Clone(ports)
	sort.Slice(ports, func(i, j int) bool {
		a, b := ports[i], ports[j]
		if a.PrivatePort != b.PrivatePort {
			return a.PrivatePort < b.PrivatePort
		}
		if a.IP != b.IP {
			return a.IP.Less(b.IP)
		}
		if a.PublicPort != b.PublicPort {
			return a.PublicPort < b.PublicPort
		}
		return a.Type < b.Type
	})
	type group struct{ first, last uint16 }
	var keys, result, remapped []string
	groups := map[string]*group{}
	for _, p := range ports {
		key := p.Type
		if p.IP.IsValid() {
			if p.PublicPort != p.PrivatePort {
				host := net.JoinHostPort(p.IP.String(), strconv.Itoa(int(p.PublicPort)))
				remapped = append(remapped, fmt.Sprintf("%s->%d/%s", host, p.PrivatePort, p.Type))
				continue
			}
			key = p.IP.String() + "/" + p.Type
		}
		g := groups[key]
		switch {
		case g == nil:
			groups[key] = &group{p.PrivatePort, p.PrivatePort}
			keys = append(keys, key)
		case p.PrivatePort == g.last+1:
			g.last = p.PrivatePort
		default:
			result = append(result, formatPortGroup(key, g.first, g.last))
			groups[key] = &group{p.PrivatePort, p.PrivatePort}
		}
	}
	for _, k := range keys {
		result = append(result, formatPortGroup(k, groups[k].first, groups[k].last))
	}
	return strings.Join(append(result, remapped...), ", ")
}

func formatPortGroup(key string, first, last uint16) string {
	ip, proto, ok := strings.Cut(key, "/")
	if !ok {
		ip, proto = "", key
	}
	s := strconv.Itoa(int(first))
	if first != last {
		s += "-" + strconv.Itoa(int(last))
	}
	if ip != "" {
		s = net.JoinHostPort(ip, s) + "->" + s
	}
	return s + "/" + proto
}

// ellipsis shortens s to max characters, the last one being "…".
func ellipsis(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	if max <= 1 {
		return string(r[:max])
	}
	return string(r[:max-1]) + "…"
}
