package buildcmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/cli"
	"github.com/containerd/console"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	solvererrdefs "github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/moby/buildkit/util/progress/progressui"
	mobyclient "github.com/moby/moby/client"
	"github.com/morikuni/aec"
	digest "github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
)

// hostGatewayLabel is the worker label holding host-gateway's address
// (dockerd's and berthd's).
const hostGatewayLabel = "org.mobyproject.buildkit.worker.moby.host-gateway-ip"

// snapshotterLabel marks a worker whose exporter can push (see directPush).
const snapshotterLabel = "org.mobyproject.buildkit.worker.snapshotter"

// run builds: it plans, connects, solves with progress on stderr, pushes
// what --push asked for, and prints the image ID for -q. A failure comes
// back as docker's "ERROR: failed to build: ..." with buildx's exit code.
func run(cmd *cobra.Command, c *cli.Cli, o *options) error {
	ctx := cmd.Context()
	mode, err := o.displayMode()
	if err != nil {
		return buildError(c.Err, err)
	}
	if o.iidFile != "" {
		if err := os.Remove(o.iidFile); err != nil && !os.IsNotExist(err) {
			return buildError(c.Err, fmt.Errorf("removing image ID file: %w", err))
		}
	}
	resp, err := build(ctx, cmd, c, o, mode)
	if err != nil {
		return buildError(c.Err, fmt.Errorf("failed to build: %w", err))
	}
	id := imageID(resp.ExporterResponse)
	if o.quiet && mode == progressui.QuietMode {
		fmt.Fprintln(c.Out, id)
	}
	if o.iidFile != "" {
		if err := os.WriteFile(o.iidFile, []byte(id), 0o644); err != nil {
			return buildError(c.Err, fmt.Errorf("writing image ID file: %w", err))
		}
	}
	if o.metadataFile != "" {
		if err := writeMetadata(o.metadataFile, resp.ExporterResponse); err != nil {
			return buildError(c.Err, err)
		}
	}
	return nil
}

// build plans, connects and solves.
func build(ctx context.Context, cmd *cobra.Command, c *cli.Cli, o *options, mode progressui.DisplayMode) (*client.SolveResponse, error) {
	p, err := o.toPlan(c.In, os.LookupEnv, isConsole(c.Out))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	attachables, err := o.attachables(cli.CredentialsPath(cmd))
	if err != nil {
		return nil, err
	}
	p.solve.Session = append(p.solve.Session, attachables...)
	api, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	bk, err := dial(ctx, api)
	if err != nil {
		return nil, err
	}
	defer bk.Close()
	if p.needHostGateway || len(p.pushNames) > 0 {
		workers, err := bk.ListWorkers(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing workers: %w", err)
		}
		if p.needHostGateway {
			if err := resolveHostGateway(workers, p.solve.FrontendAttrs); err != nil {
				return nil, err
			}
		}
		if len(p.pushNames) > 0 && directPush(workers) {
			p.pushByExporter()
		}
	}
	return solve(ctx, cmd, bk, api, p, mode, c.Err)
}

// displayMode is --progress, with -q (quiet, and the ID on stdout).
func (o *options) displayMode() (progressui.DisplayMode, error) {
	mode := o.progress
	if mode == "quiet" {
		o.quiet = true
	}
	if mode == "none" {
		mode = "quiet"
	}
	switch progressui.DisplayMode(mode) {
	case progressui.AutoMode, progressui.QuietMode, progressui.TtyMode, progressui.PlainMode, progressui.RawJSONMode:
	default:
		return "", invalid("invalid progress mode %s", o.progress)
	}
	if o.quiet {
		if mode != string(progressui.AutoMode) && mode != string(progressui.QuietMode) {
			return "", invalid("progress=%s and quiet cannot be used together", o.progress)
		}
		return progressui.QuietMode, nil
	}
	return progressui.DisplayMode(mode), nil
}

// dial connects a BuildKit client to the daemon's /grpc, its sessions
// through /session, both hijacked from the API socket as buildx's docker
// driver does.
func dial(ctx context.Context, api *mobyclient.Client) (*client.Client, error) {
	return client.New(ctx, "",
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return api.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return api.DialHijack(ctx, "/session", proto, meta)
		}),
	)
}

// resolveHostGateway replaces host-gateway in add-hosts with the address
// the worker advertises.
func resolveHostGateway(workers []*client.WorkerInfo, attrs map[string]string) error {
	ip := ""
	for _, w := range workers {
		if v := w.Labels[hostGatewayLabel]; v != "" && net.ParseIP(v) != nil {
			ip = v
			break
		}
	}
	if ip == "" {
		return errors.New("unable to derive the IP value for host-gateway: host-gateway IP not found")
	}
	attrs["add-hosts"] = strings.ReplaceAll(attrs["add-hosts"], "="+hostGatewayName, "="+ip)
	return nil
}

// directPush tells whether the daemon's moby exporter pushes itself: a
// worker on a snapshotter (berthd's, dockerd's with containerd's store)
// does, as buildx's docker driver decides; else the daemon's push API does.
func directPush(workers []*client.WorkerInfo) bool {
	for _, w := range workers {
		if _, ok := w.Labels[snapshotterLabel]; ok {
			return true
		}
	}
	return false
}

// solve runs the build with its progress display, then the pushes.
func solve(ctx context.Context, cmd *cobra.Command, bk *client.Client, api *mobyclient.Client, p *plan, mode progressui.DisplayMode, errw io.Writer) (*client.SolveResponse, error) {
	display, err := progressui.NewDisplay(errw, mode,
		progressui.WithDesc(`building with "default" instance using docker driver`, "docker:default"))
	if err != nil {
		return nil, err
	}
	solveCh := make(chan *client.SolveStatus)
	displayCh := make(chan *client.SolveStatus)
	var resp *client.SolveResponse
	var warnings []client.VertexWarning
	eg, egctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(displayCh)
		forwarded := make(chan struct{})
		go func() {
			for s := range solveCh {
				displayCh <- s
			}
			close(forwarded)
		}()
		var err error
		resp, err = bk.Solve(egctx, nil, p.solve, solveCh)
		<-forwarded
		if err != nil {
			return err
		}
		for _, name := range p.pushNames {
			if err := push(egctx, cmd, api, name, displayCh); err != nil {
				return err
			}
		}
		return nil
	})
	eg.Go(func() error {
		var err error
		// the display runs to the end even when the build is cancelled,
		// so that the failed step's logs are shown
		warnings, err = display.UpdateFrom(context.WithoutCancel(ctx), displayCh)
		return err
	})
	err = eg.Wait()
	printWarnings(errw, warnings, mode)
	return resp, err
}

// push pushes name through the daemon's API (the moby exporter stored the
// image), shown as one step of the build's progress.
func push(ctx context.Context, cmd *cobra.Command, api *mobyclient.Client, name string, ch chan<- *client.SolveStatus) error {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return err
	}
	auth, err := cli.RegistryAuth(cmd, named)
	if err != nil {
		return err
	}
	now := time.Now()
	v := &client.Vertex{
		Digest:  digest.FromString(fmt.Sprintf("push %s %d", name, now.UnixNano())),
		Name:    fmt.Sprintf("pushing %s with docker", name),
		Started: &now,
	}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{v}}
	err = pushStream(ctx, api, named.String(), auth, v.Digest, ch)
	done := time.Now()
	v2 := *v
	v2.Completed = &done
	if err != nil {
		v2.Error = err.Error()
	}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{&v2}}
	return err
}

func pushStream(ctx context.Context, api *mobyclient.Client, ref, auth string, vertex digest.Digest, ch chan<- *client.SolveStatus) error {
	resp, err := api.ImagePush(ctx, ref, mobyclient.ImagePushOptions{RegistryAuth: auth})
	if err != nil {
		return err
	}
	defer resp.Close()
	started := map[string]*client.VertexStatus{}
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if msg.Error != nil {
			return errors.New(msg.Error.Message)
		}
		if msg.ID == "" {
			continue
		}
		id := "pushing layer " + msg.ID
		st, ok := started[id]
		if !ok {
			if msg.Progress == nil && msg.Status != "Pushed" && msg.Status != "Layer already exists" {
				continue
			}
			now := time.Now()
			st = &client.VertexStatus{ID: id, Vertex: vertex, Started: &now}
			started[id] = st
		}
		st.Timestamp = time.Now()
		if msg.Progress != nil {
			st.Current, st.Total = msg.Progress.Current, msg.Progress.Total
		}
		if msg.Status == "Pushed" || msg.Status == "Layer already exists" {
			now := time.Now()
			st.Completed = &now
			st.Current = st.Total
		}
		s := *st
		ch <- &client.SolveStatus{Statuses: []*client.VertexStatus{&s}}
	}
	return nil
}

// printWarnings prints the build's warnings after the progress, as buildx
// does.
func printWarnings(w io.Writer, warnings []client.VertexWarning, mode progressui.DisplayMode) {
	if len(warnings) == 0 || mode == progressui.QuietMode || mode == progressui.RawJSONMode {
		return
	}
	head := fmt.Sprintf("%d warnings found (use docker --debug to expand):\n", len(warnings))
	if len(warnings) == 1 {
		head = "1 warning found (use docker --debug to expand):\n"
	}
	fmt.Fprint(w, "\n ", aec.Apply(head, aec.YellowF))
	for _, warn := range warnings {
		fmt.Fprintf(w, " - %s\n", warn.Short)
	}
}

// buildError prints a failure as buildx does (the Dockerfile lines the
// error points at, then "ERROR: <error>") and returns its exit code.
func buildError(errw io.Writer, err error) error {
	for _, s := range solvererrdefs.Sources(err) {
		_ = s.Print(errw)
	}
	fmt.Fprintf(errw, "ERROR: %v\n", err)
	code := 1
	if errors.Is(err, context.Canceled) {
		code = 130 // interrupted
	}
	switch grpcerrors.Code(err) {
	case codes.Internal:
		code = 100
	case codes.ResourceExhausted:
		code = 102
	case codes.Canceled:
		code = 130
	}
	return cli.StatusError{StatusCode: code}
}

// imageID is the built image's ID: its config digest, else its digest.
func imageID(resp map[string]string) string {
	if v, ok := resp[respImageConfigDigest]; ok {
		return v
	}
	return resp[respImageDigest]
}

// writeMetadata writes the exporter's response as JSON, its base64 JSON
// values decoded, as buildx's --metadata-file does.
func writeMetadata(path string, resp map[string]string) error {
	out := map[string]any{}
	for k, v := range resp {
		if dt, err := base64.StdEncoding.DecodeString(v); err == nil {
			var raw json.RawMessage
			if json.Unmarshal(dt, &raw) == nil && len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
				out[k] = raw
				continue
			}
		}
		out[k] = v
	}
	dt, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, dt, 0o644)
}

// isConsole tells whether w is a terminal.
func isConsole(w io.Writer) bool {
	f, ok := w.(console.File)
	if !ok {
		return false
	}
	_, err := console.ConsoleFromFile(f)
	return err == nil
}
