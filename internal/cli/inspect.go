package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
)

// inspectFormatHelp is docker's --format help text for inspect commands.
const inspectFormatHelp = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

// inspectTypes are the values docker's `inspect --type` accepts.
func inspectTypes() []string {
	return []string{"config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"}
}

// inspectGetter fetches one object by name or id: its typed form, which
// templates run against first, and the daemon's JSON exactly as sent.
type inspectGetter func(ctx context.Context, ref string) (typed any, raw []byte, err error)

// addInspectCommand registers `inspect`, which finds containers, images,
// networks and volumes by name or id.
func addInspectCommand(root *cobra.Command, c *Cli) {
	var (
		formatFlag, kind string
		size             bool
	)
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on Docker objects",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			types := `"` + strings.Join(inspectTypes(), `", "`) + `"`
			if cmd.Flags().Changed("type") && kind == "" {
				return fmt.Errorf("type is empty: must be one of %s", types)
			}
			if kind != "" && !slices.Contains(inspectTypes(), kind) {
				return fmt.Errorf("unknown type: %q: must be one of %s", kind, types)
			}
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			return runInspect(ctx, c.Out, args, formatFlag, inspectAny(api, c.Err, kind, size))
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&formatFlag, "format", "f", "", inspectFormatHelp)
	flags.StringVar(&kind, "type", "", "Only inspect objects of the given type")
	flags.BoolVarP(&size, "size", "s", false, "Display total file sizes if the type is container")
	root.AddCommand(cmd)
}

// newImageInspectCommand makes `image inspect`.
func newImageInspectCommand(c *Cli) *cobra.Command {
	return newObjectInspectCommand(c, "IMAGE", "images", inspectImage)
}

// newObjectInspectCommand makes the `inspect` of one object group (`image
// inspect`, `volume inspect`): OBJECT names the arguments in the usage line.
func newObjectInspectCommand(c *Cli, object, plural string, getter func(*client.Client) inspectGetter) *cobra.Command {
	var formatFlag string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] " + object + " [" + object + "...]",
		Short: "Display detailed information on one or more " + plural,
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			return runInspect(ctx, c.Out, args, formatFlag, getter(api))
		},
	}
	cmd.Flags().StringVarP(&formatFlag, "format", "f", "", inspectFormatHelp)
	return cmd
}

// newContainerInspectCommand makes `container inspect`, for whoever builds
// the `container` group.
func newContainerInspectCommand(c *Cli) *cobra.Command {
	var (
		formatFlag string
		size       bool
	)
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			return runInspect(ctx, c.Out, args, formatFlag, inspectContainer(api, size))
		},
	}
	cmd.Flags().StringVarP(&formatFlag, "format", "f", "", inspectFormatHelp)
	cmd.Flags().BoolVarP(&size, "size", "s", false, "Display total file sizes")
	return cmd
}

func inspectContainer(api *client.Client, size bool) inspectGetter {
	return func(ctx context.Context, ref string) (any, []byte, error) {
		res, err := api.ContainerInspect(ctx, ref, client.ContainerInspectOptions{Size: size})
		if err != nil {
			return nil, nil, err
		}
		return res.Container, res.Raw, nil
	}
}

func inspectImage(api *client.Client) inspectGetter {
	return func(ctx context.Context, ref string) (any, []byte, error) {
		var raw bytes.Buffer
		res, err := api.ImageInspect(ctx, ref, client.ImageInspectWithRawResponse(&raw))
		if err != nil {
			return nil, nil, err
		}
		return res.InspectResponse, raw.Bytes(), nil
	}
}

func inspectNetwork(api *client.Client) inspectGetter {
	return func(ctx context.Context, ref string) (any, []byte, error) {
		res, err := api.NetworkInspect(ctx, ref, client.NetworkInspectOptions{})
		if err != nil {
			return nil, nil, err
		}
		return res.Network, res.Raw, nil
	}
}

func inspectVolume(api *client.Client) inspectGetter {
	return func(ctx context.Context, ref string) (any, []byte, error) {
		res, err := api.VolumeInspect(ctx, ref, client.VolumeInspectOptions{})
		if err != nil {
			return nil, nil, err
		}
		return res.Volume, res.Raw, nil
	}
}

// inspectAny looks ref up as each kind of object in docker's order
// (container, image, network, volume), or only as kind when it is set. A
// kind berth does not have (swarm objects, plugins) finds nothing.
func inspectAny(api *client.Client, errw io.Writer, kind string, size bool) inspectGetter {
	kinds := []struct {
		name string
		get  inspectGetter
	}{
		{"container", inspectContainer(api, size)},
		{"image", inspectImage(api)},
		{"network", inspectNetwork(api)},
		{"volume", inspectVolume(api)},
	}
	return func(ctx context.Context, ref string) (any, []byte, error) {
		for _, k := range kinds {
			if kind != "" && k.name != kind {
				continue
			}
			typed, raw, err := k.get(ctx, ref)
			if err != nil {
				if kind == "" && inspectSkippable(err) {
					continue
				}
				return nil, nil, err
			}
			if size && k.name != "container" {
				fmt.Fprintln(errw, "WARNING: --size ignored for", k.name)
			}
			return typed, raw, nil
		}
		return nil, nil, fmt.Errorf("Error: No such object: %s", ref) //nolint:staticcheck // docker's exact message
	}
}

// inspectSkippable reports a lookup failure that only means "not this kind".
func inspectSkippable(err error) bool {
	return cerrdefs.IsNotFound(err) ||
		strings.Contains(err.Error(), "not supported") ||
		strings.Contains(err.Error(), "invalid reference format")
}

// runInspect prints the objects refs name as docker does: a JSON array
// indented by 4 spaces of the daemon's own JSON, compact with "json", or a
// template executed per object. Objects not found are reported together
// after the others are printed, with exit status 1; a template that does
// not parse exits 64.
func runInspect(ctx context.Context, out io.Writer, refs []string, tmpl string, get inspectGetter) error {
	var p inspectPrinter
	switch tmpl {
	case "":
		p = &inspectJSON{indent: true}
	case format.JSONKey:
		p = &inspectJSON{}
	default:
		t, err := format.Parse(tmpl)
		if err != nil {
			return StatusError{Status: "template parsing error: " + err.Error(), StatusCode: 64}
		}
		p = &inspectTemplate{tmpl: t}
	}

	var errs []error
	for _, ref := range refs {
		typed, raw, err := get(ctx, ref)
		if err == nil {
			err = p.add(typed, raw)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := p.flush(out); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return StatusError{Status: err.Error(), StatusCode: 1}
	}
	return nil
}

// inspectPrinter collects inspected objects and prints them at the end.
type inspectPrinter interface {
	add(typed any, raw []byte) error
	flush(w io.Writer) error
}

// inspectJSON prints the objects as one JSON array.
type inspectJSON struct {
	indent bool
	raws   [][]byte
}

func (p *inspectJSON) add(typed any, raw []byte) error {
	if raw == nil {
		b, err := json.Marshal(typed)
		if err != nil {
			return err
		}
		raw = b
	}
	p.raws = append(p.raws, raw)
	return nil
}

func (p *inspectJSON) flush(w io.Writer) error {
	if len(p.raws) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	list := append([]byte("["), bytes.Join(p.raws, []byte(","))...)
	list = append(list, ']')
	var out bytes.Buffer
	var err error
	if p.indent {
		err = json.Indent(&out, list, "", "    ")
	} else {
		err = json.Compact(&out, list)
	}
	if err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(w)
	return err
}

// inspectTemplate executes a template per object, one output line each.
type inspectTemplate struct {
	tmpl *template.Template
	buf  bytes.Buffer
}

func (p *inspectTemplate) add(typed any, raw []byte) error {
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, typed); err != nil {
		if raw == nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		// The typed struct may lack a field the daemon sent (a newer API, an
		// engine extension): like docker, retry on the raw JSON as a map,
		// where a missing key is an error rather than "<no value>".
		b.Reset()
		var m any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("unable to read inspect data: %w", err)
		}
		t, err := p.tmpl.Clone()
		if err != nil {
			return err
		}
		if err := t.Option("missingkey=error").Execute(&b, m); err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
	}
	p.buf.Write(b.Bytes())
	p.buf.WriteByte('\n')
	return nil
}

func (p *inspectTemplate) flush(w io.Writer) error {
	if p.buf.Len() == 0 {
		_, err := io.WriteString(w, "\n")
		return err
	}
	_, err := p.buf.WriteTo(w)
	return err
}
