package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/security"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
)

// BuildTime is when berth was built (RFC 3339), set by the Makefile with
// -ldflags "-X github.com/berth-project/berth/internal/cli.BuildTime=...".
var BuildTime = ""

// addSystemCommands registers `version`, `info` and the `system` group.
func addSystemCommands(root *cobra.Command, c *Cli) {
	root.AddCommand(newVersionCommand(c), newInfoCommand(c), newSystemCommand(c))
}

// versionTemplate lays `version` out as docker does; cells are aligned by a
// tabwriter.
const versionTemplate = `{{with .Client -}}
Client:{{with .Platform}}{{if .Name}} {{.Name}}{{end}}{{end}}
 Version:	{{.Version}}
 API version:	{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:	{{.GoVersion}}
 Git commit:	{{.GitCommit}}
 Built:	{{.BuildTime}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}
{{- with .Server}}

Server:{{if .Platform.Name}} {{.Platform.Name}}{{end}}
{{- range $c := .Components}}
 {{$c.Name}}:
{{- if eq $c.Name "Engine"}}
  Version:	{{$c.Version}}
  API version:	{{index $c.Details "ApiVersion"}} (minimum version {{index $c.Details "MinAPIVersion"}})
  Go version:	{{index $c.Details "GoVersion"}}
  Git commit:	{{index $c.Details "GitCommit"}}
  Built:	{{index $c.Details "BuildTime"}}
  OS/Arch:	{{index $c.Details "Os"}}/{{index $c.Details "Arch"}}
  Experimental:	{{index $c.Details "Experimental"}}
{{- else}}
  Version:	{{$c.Version}}
{{- range $k := detailKeys $c}}
  {{$k}}:	{{index $c.Details $k}}
{{- end}}
{{- end}}
{{- end}}
{{- end}}`

// versionInfo is what `version -f` templates see: .Client and .Server.
type versionInfo struct {
	Client clientVersion
	Server *serverVersion
}

type platformInfo struct {
	Name string `json:"Name,omitempty"`
}

// clientVersion describes this berth binary.
type clientVersion struct {
	Platform          *platformInfo `json:"Platform,omitempty"`
	Version           string        `json:"Version,omitempty"`
	APIVersion        string        `json:"ApiVersion,omitempty"`
	DefaultAPIVersion string        `json:"DefaultAPIVersion,omitempty"`
	GitCommit         string        `json:"GitCommit,omitempty"`
	GoVersion         string        `json:"GoVersion,omitempty"`
	Os                string        `json:"Os,omitempty"`
	Arch              string        `json:"Arch,omitempty"`
	BuildTime         string        `json:"BuildTime,omitempty"`
	Context           string        `json:"Context"`
}

// serverVersion describes the daemon, with the Engine component's details
// repeated at the top level as docker's CLI does for old templates.
type serverVersion struct {
	Platform      client.PlatformInfo       `json:",omitempty"`
	Components    []system.ComponentVersion `json:"Components,omitempty"`
	Version       string                    `json:"Version"`
	APIVersion    string                    `json:"ApiVersion"`
	MinAPIVersion string                    `json:"MinAPIVersion,omitempty"`
	GitCommit     string                    `json:"GitCommit"`
	GoVersion     string                    `json:"GoVersion"`
	Os            string                    `json:"Os"`
	Arch          string                    `json:"Arch"`
	KernelVersion string                    `json:"KernelVersion,omitempty"`
	Experimental  bool                      `json:"Experimental,omitempty"`
	BuildTime     string                    `json:"BuildTime,omitempty"`
}

func newClientVersion() clientVersion {
	return clientVersion{
		Version:           Version,
		APIVersion:        client.MaxAPIVersion,
		DefaultAPIVersion: client.MaxAPIVersion,
		GitCommit:         GitCommit,
		GoVersion:         runtime.Version(),
		Os:                runtime.GOOS,
		Arch:              runtime.GOARCH,
		BuildTime:         ansicDate(BuildTime),
		Context:           "default",
	}
}

func newServerVersion(sv client.ServerVersionResult) *serverVersion {
	out := &serverVersion{
		Platform:      sv.Platform,
		Version:       sv.Version,
		APIVersion:    sv.APIVersion,
		MinAPIVersion: sv.MinAPIVersion,
		Os:            sv.Os,
		Arch:          sv.Arch,
		Experimental:  sv.Experimental, //nolint:staticcheck // kept for old templates, as docker does
	}
	engine := false
	for _, comp := range sv.Components {
		if comp.Name == "Engine" {
			engine = true
			built := comp.Details["BuildTime"]
			if comp.Details != nil && built != "" {
				comp.Details["BuildTime"] = ansicDate(built)
			}
			out.GitCommit = comp.Details["GitCommit"]
			out.GoVersion = comp.Details["GoVersion"]
			out.KernelVersion = comp.Details["KernelVersion"]
			out.Experimental, _ = strconv.ParseBool(comp.Details["Experimental"])
			out.BuildTime = built
		}
		out.Components = append(out.Components, comp)
	}
	if !engine {
		out.Components = append(out.Components, system.ComponentVersion{
			Name:    "Engine",
			Version: sv.Version,
			Details: map[string]string{
				"ApiVersion":    sv.APIVersion,
				"MinAPIVersion": sv.MinAPIVersion,
				"Os":            sv.Os,
				"Arch":          sv.Arch,
			},
		})
	}
	return out
}

// ansicDate shows an RFC 3339 build time the way docker prints it.
func ansicDate(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Format(time.ANSIC)
	}
	return s
}

// detailKeys lists a component's detail keys in order.
func detailKeys(c system.ComponentVersion) []string {
	keys := make([]string, 0, len(c.Details))
	for k := range c.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newVersionTemplate parses -f (or the default layout) with docker's
// functions; "json" prints everything as JSON.
func newVersionTemplate(text string) (*template.Template, error) {
	switch text {
	case "":
		text = versionTemplate
	case format.JSONKey:
		text = "{{json .}}"
	}
	t, err := template.New("version").Funcs(format.Funcs()).Funcs(template.FuncMap{"detailKeys": detailKeys}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return t, nil
}

func newVersionCommand(c *Cli) *cobra.Command {
	var formatFlag string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the Berth version information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			tmpl, err := newVersionTemplate(formatFlag)
			if err != nil {
				return StatusError{Status: err.Error(), StatusCode: 64}
			}
			v := versionInfo{Client: newClientVersion()}
			api, err := c.Client(ctx)
			if err == nil {
				var sv client.ServerVersionResult
				sv, err = api.ServerVersion(ctx, client.ServerVersionOptions{})
				if err == nil {
					v.Server = newServerVersion(sv)
				}
				// The request negotiated the API version when it could.
				v.Client.APIVersion = api.ClientVersion()
			}
			if perr := printVersion(c.Out, tmpl, v); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&formatFlag, "format", "f", "", inspectFormatHelp)
	return cmd
}

// printVersion executes the version template through docker's tabwriter
// settings (minimum width 20, padding 1), ending with a newline.
func printVersion(w io.Writer, tmpl *template.Template, v versionInfo) error {
	tw := tabwriter.NewWriter(w, 20, 1, 1, ' ', 0)
	err := tmpl.Execute(tw, v)
	_, _ = tw.Write([]byte("\n"))
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// clientInfo is the Client part of `info`.
type clientInfo struct {
	Debug bool
	clientVersion
	Plugins  []any
	Warnings []string
}

// infoData is what `info -f` templates see: the daemon's fields at the top
// level (.Containers, .ServerVersion...), plus .ClientInfo.
type infoData struct {
	*system.Info `json:",omitempty"`
	ServerErrors []string    `json:",omitempty"`
	ClientInfo   *clientInfo `json:",omitempty"`
	ClientErrors []string    `json:",omitempty"`
}

func newInfoCommand(c *Cli) *cobra.Command {
	var formatFlag string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			data := infoData{ClientInfo: &clientInfo{clientVersion: newClientVersion(), Plugins: []any{}}}
			var connErr error
			api, err := c.Client(ctx)
			if err == nil {
				var res client.SystemInfoResult
				res, err = api.Info(ctx, client.InfoOptions{})
				if err == nil {
					data.Info = &res.Info
				}
			}
			if err != nil {
				if client.IsErrConnectionFailed(err) {
					connErr = err
				} else {
					data.ServerErrors = append(data.ServerErrors, err.Error())
					if formatFlag != "" {
						fmt.Fprintln(c.Err, err)
					}
				}
			}
			if formatFlag == "" {
				return errors.Join(printInfo(c.Out, c.Err, data), connErr)
			}
			if data.Info == nil {
				data.Info = &system.Info{}
			}
			return errors.Join(connErr, formatInfo(c.Out, formatFlag, data))
		},
	}
	cmd.Flags().StringVarP(&formatFlag, "format", "f", "", inspectFormatHelp)
	return cmd
}

// formatInfo prints info through a -f template.
func formatInfo(w io.Writer, text string, data infoData) error {
	if text == format.JSONKey {
		text = "{{json .}}"
	}
	tmpl, err := format.Parse(text)
	if err != nil {
		return StatusError{Status: "template parsing error: " + err.Error(), StatusCode: 64}
	}
	err = tmpl.Execute(w, data)
	fmt.Fprintln(w)
	return err
}

// printInfo prints `info` in docker's layout; errors and the daemon's
// warnings go to errw.
func printInfo(w, errw io.Writer, data infoData) error {
	fmt.Fprintln(w, "Client:")
	ci := data.ClientInfo
	infoLine(w, " Version:   ", ci.Version)
	fmt.Fprintln(w, " Context:   ", ci.Context)
	fmt.Fprintln(w, " Debug Mode:", ci.Debug)
	for _, e := range data.ClientErrors {
		fmt.Fprintln(errw, "ERROR:", e)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Server:")
	if data.Info != nil {
		printServerInfo(w, errw, data.Info)
	}
	for _, e := range data.ServerErrors {
		fmt.Fprintln(errw, "ERROR:", e)
	}
	if len(data.ServerErrors) > 0 || len(data.ClientErrors) > 0 {
		return errors.New("errors pretty printing info")
	}
	return nil
}

// printServerInfo prints the Server part of `info`, line for line as
// docker's CLI does for the fields a single-host engine reports.
func printServerInfo(w, errw io.Writer, info *system.Info) {
	fmt.Fprintln(w, " Containers:", info.Containers)
	fmt.Fprintln(w, "  Running:", info.ContainersRunning)
	fmt.Fprintln(w, "  Paused:", info.ContainersPaused)
	fmt.Fprintln(w, "  Stopped:", info.ContainersStopped)
	fmt.Fprintln(w, " Images:", info.Images)
	infoLine(w, " Server Version:", info.ServerVersion)
	infoLine(w, " Storage Driver:", info.Driver)
	for _, kv := range info.DriverStatus {
		fmt.Fprintf(w, "  %s: %s\n", kv[0], kv[1])
	}
	for _, kv := range info.SystemStatus {
		fmt.Fprintf(w, " %s: %s\n", kv[0], kv[1])
	}
	infoLine(w, " Logging Driver:", info.LoggingDriver)
	infoLine(w, " Cgroup Driver:", info.CgroupDriver)
	infoLine(w, " Cgroup Version:", info.CgroupVersion)

	fmt.Fprintln(w, " Plugins:")
	fmt.Fprintln(w, "  Volume:", strings.Join(info.Plugins.Volume, " "))
	fmt.Fprintln(w, "  Network:", strings.Join(info.Plugins.Network, " "))
	if len(info.Plugins.Authorization) > 0 {
		fmt.Fprintln(w, "  Authorization:", strings.Join(info.Plugins.Authorization, " "))
	}
	fmt.Fprintln(w, "  Log:", strings.Join(info.Plugins.Log, " "))
	if len(info.CDISpecDirs) > 0 {
		fmt.Fprintln(w, " CDI spec directories:")
		for _, dir := range info.CDISpecDirs {
			fmt.Fprintf(w, "  %s\n", dir)
		}
	}

	fmt.Fprintln(w, " Swarm:", info.Swarm.LocalNodeState)
	if s := info.Swarm; s.LocalNodeState != swarm.LocalNodeStateInactive && s.LocalNodeState != swarm.LocalNodeStateLocked {
		fmt.Fprintln(w, "  NodeID:", s.NodeID)
		if s.Error != "" {
			fmt.Fprintln(w, "  Error:", s.Error)
		}
		fmt.Fprintln(w, "  Is Manager:", s.ControlAvailable)
		fmt.Fprintln(w, "  Node Address:", s.NodeAddr)
	}

	if len(info.Runtimes) > 0 {
		names := make([]string, 0, len(info.Runtimes))
		for name := range info.Runtimes {
			names = append(names, name)
		}
		slices.Sort(names)
		fmt.Fprintln(w, " Runtimes:", strings.Join(names, " "))
		fmt.Fprintln(w, " Default Runtime:", info.DefaultRuntime)
	}

	if info.OSType == "linux" {
		fmt.Fprintln(w, " Init Binary:", info.InitBinary)
		fmt.Fprintln(w, " containerd version:", info.ContainerdCommit.ID)
		fmt.Fprintln(w, " runc version:", info.RuncCommit.ID)
		fmt.Fprintln(w, " init version:", info.InitCommit.ID)
		if opts := security.DecodeOptions(info.SecurityOptions); len(opts) > 0 {
			fmt.Fprintln(w, " Security Options:")
			for _, o := range opts {
				fmt.Fprintln(w, "  "+o.Name)
				for _, kv := range o.Options {
					if kv.Key == "profile" {
						fmt.Fprintln(w, "   Profile:", kv.Value)
					}
				}
			}
		}
	}

	infoLine(w, " Kernel Version:", info.KernelVersion)
	infoLine(w, " Operating System:", info.OperatingSystem)
	infoLine(w, " OSType:", info.OSType)
	infoLine(w, " Architecture:", info.Architecture)
	fmt.Fprintln(w, " CPUs:", info.NCPU)
	fmt.Fprintln(w, " Total Memory:", units.BytesSize(float64(info.MemTotal)))
	infoLine(w, " Name:", info.Name)
	infoLine(w, " ID:", info.ID)
	fmt.Fprintln(w, " Docker Root Dir:", info.DockerRootDir)
	fmt.Fprintln(w, " Debug Mode:", info.Debug)
	if info.Debug {
		fmt.Fprintln(w, "  File Descriptors:", info.NFd)
		fmt.Fprintln(w, "  Goroutines:", info.NGoroutines)
		fmt.Fprintln(w, "  System Time:", info.SystemTime)
		fmt.Fprintln(w, "  EventsListeners:", info.NEventsListener)
	}
	infoLine(w, " HTTP Proxy:", info.HTTPProxy)
	infoLine(w, " HTTPS Proxy:", info.HTTPSProxy)
	infoLine(w, " No Proxy:", info.NoProxy)
	if len(info.Labels) > 0 {
		fmt.Fprintln(w, " Labels:")
		for _, l := range info.Labels {
			fmt.Fprintln(w, "  "+l)
		}
	}
	fmt.Fprintln(w, " Experimental:", info.ExperimentalBuild)

	if rc := info.RegistryConfig; rc != nil {
		if len(rc.InsecureRegistryCIDRs) > 0 || len(rc.IndexConfigs) > 0 {
			fmt.Fprintln(w, " Insecure Registries:")
			names := make([]string, 0, len(rc.IndexConfigs))
			for _, idx := range rc.IndexConfigs {
				if idx != nil && !idx.Secure {
					names = append(names, idx.Name)
				}
			}
			slices.Sort(names)
			for _, n := range names {
				fmt.Fprintln(w, "  "+n)
			}
			for _, cidr := range rc.InsecureRegistryCIDRs {
				fmt.Fprintf(w, "  %s\n", cidr)
			}
		}
		if len(rc.Mirrors) > 0 {
			fmt.Fprintln(w, " Registry Mirrors:")
			for _, m := range rc.Mirrors {
				fmt.Fprintln(w, "  "+m)
			}
		}
	}

	fmt.Fprintln(w, " Live Restore Enabled:", info.LiveRestoreEnabled)
	if len(info.DefaultAddressPools) > 0 {
		fmt.Fprintln(w, " Default Address Pools:")
		for _, p := range info.DefaultAddressPools {
			fmt.Fprintf(w, "   Base: %s, Size: %d\n", p.Base, p.Size)
		}
	}
	if fb := info.FirewallBackend; fb != nil {
		fmt.Fprintln(w, " Firewall Backend:", fb.Driver)
		for _, kv := range fb.Info {
			fmt.Fprintf(w, "  %s: %s\n", kv[0], kv[1])
		}
	}
	fmt.Fprintln(w)
	for _, warning := range info.Warnings {
		fmt.Fprintln(errw, warning)
	}
}

// infoLine prints "label value" unless value is empty.
func infoLine(w io.Writer, label, value string) {
	if value != "" {
		fmt.Fprintln(w, label, value)
	}
}

// newSystemCommand is docker's `system` management command.
func newSystemCommand(c *Cli) *cobra.Command {
	cmd := newGroupCommand(c, "system", "Manage Docker")
	cmd.AddCommand(newSystemDfCommand(c), newSystemPruneCommand(c), newInfoCommand(c), newEventsCommand(c))
	return cmd
}

// dfTable is docker's `system df` summary table.
const dfTable = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"

// dfRow is one line of `system df`; its fields are what --format sees.
type dfRow struct {
	Type        string
	TotalCount  string
	Active      string
	Size        string
	Reclaimable string
}

// newDfRow summarises one type; percent adds docker's "(N%)" of the total.
func newDfRow(kind string, total, active, size, reclaimable int64, percent bool) *dfRow {
	r := &dfRow{Type: kind, TotalCount: strconv.FormatInt(total, 10), Active: strconv.FormatInt(active, 10),
		Size: units.HumanSize(float64(size)), Reclaimable: units.HumanSize(float64(reclaimable))}
	if percent && size > 0 {
		r.Reclaimable = fmt.Sprintf("%s (%v%%)", r.Reclaimable, reclaimable*100/size)
	}
	return r
}

// newSystemDfCommand makes `system df`.
func newSystemDfCommand(c *Cli) *cobra.Command {
	var (
		verbose    bool
		formatFlag string
	)
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show docker disk usage",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			du, err := api.DiskUsage(ctx, client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true, Verbose: verbose})
			if err != nil {
				return err
			}
			if verbose && (formatFlag == "" || formatFlag == format.TableKey) {
				return printDfVerbose(c.Out, du)
			}
			rows := []any{
				newDfRow("Images", du.Images.TotalCount, du.Images.ActiveCount, du.Images.TotalSize, du.Images.Reclaimable, true),
				newDfRow("Containers", du.Containers.TotalCount, du.Containers.ActiveCount, du.Containers.TotalSize, du.Containers.Reclaimable, true),
				newDfRow("Local Volumes", du.Volumes.TotalCount, du.Volumes.ActiveCount, du.Volumes.TotalSize, du.Volumes.Reclaimable, true),
				newDfRow("Build Cache", du.BuildCache.TotalCount, du.BuildCache.ActiveCount, du.BuildCache.TotalSize, du.BuildCache.Reclaimable, false),
			}
			f := format.Format(formatFlag)
			if formatFlag == "" || formatFlag == format.TableKey {
				f = dfTable
			}
			return format.Write(c.Out, f, rows, format.Header{"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"})
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&verbose, "verbose", "v", false, "Show detailed information on space usage")
	flags.StringVar(&formatFlag, "format", "", listFormatHelp)
	return cmd
}

// printDfVerbose prints `system df -v`: one table per type, as docker.
func printDfVerbose(w io.Writer, du client.DiskUsageResult) error {
	now := time.Now()
	ago := func(unix int64) string { return units.HumanDuration(now.Sub(time.Unix(unix, 0))) + " ago" }
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "Images space usage:\n\nREPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS")
	for _, img := range du.Images.Items {
		repo, tag := "<none>", "<none>"
		if len(img.RepoTags) > 0 {
			if i := strings.LastIndex(img.RepoTags[0], ":"); i > 0 && !strings.Contains(img.RepoTags[0][i:], "/") {
				repo, tag = img.RepoTags[0][:i], img.RepoTags[0][i+1:]
			}
		}
		id := strings.TrimPrefix(img.ID, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", repo, tag, id, ago(img.Created),
			units.HumanSize(float64(img.Size)), units.HumanSize(float64(img.SharedSize)), units.HumanSize(float64(img.Size-img.SharedSize)), img.Containers)
	}
	fmt.Fprintln(tw, "\nContainers space usage:\n\nCONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES")
	for _, s := range du.Containers.Items {
		r := newPsRow(s, true, now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Image, r.Command, r.LocalVolumes,
			units.HumanSize(float64(s.SizeRw)), r.RunningFor, r.Status, r.Names)
	}
	fmt.Fprintln(tw, "\nLocal Volumes space usage:\n\nVOLUME NAME\tLINKS\tSIZE")
	for _, v := range du.Volumes.Items {
		links, size := int64(-1), int64(-1)
		if v.UsageData != nil {
			links, size = v.UsageData.RefCount, v.UsageData.Size
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", v.Name, links, units.HumanSize(float64(size)))
	}
	fmt.Fprintf(tw, "\nBuild cache usage: %s\n\nCACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n", units.HumanSize(float64(du.BuildCache.TotalSize)))
	printBuildCacheRows(tw, du.BuildCache.Items, now)
	return tw.Flush()
}
