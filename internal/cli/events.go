package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
)

// rfc3339NanoFixed is docker's event time layout: nanoseconds always shown.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

type eventsOptions struct {
	since, until, format string
	filters              apiFilters
}

func newEventsCommand(c *Cli) *cobra.Command {
	opts := eventsOptions{filters: apiFilters{}}
	cmd := &cobra.Command{
		Use:   "events [OPTIONS]",
		Short: "Get real time events from the server",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEvents(cmd.Context(), c, opts)
		},
	}
	flags := cmd.Flags()
	flags.VarP(opts.filters, "filter", "f", "Filter output based on conditions provided")
	flags.StringVar(&opts.format, "format", "", "Format output using a custom template:\n"+
		"'json':             Print in JSON format\n"+
		"'TEMPLATE':         Print output using the given Go template.\n"+
		"Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates")
	flags.StringVar(&opts.since, "since", "", "Show all events created since timestamp")
	flags.StringVar(&opts.until, "until", "", "Show events created until timestamp")
	return cmd
}

// runEvents prints the daemon's events, one a line, until the stream ends
// (with --until) or the user interrupts.
func runEvents(ctx context.Context, c *Cli, opts eventsOptions) error {
	tmpl, err := eventsTemplate(opts.format)
	if err != nil {
		return StatusError{Status: "Error parsing format: " + err.Error(), StatusCode: 64}
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := api.Events(ctx, client.EventsListOptions{Since: opts.since, Until: opts.until, Filters: client.Filters(opts.filters)})
	for {
		select {
		case m := <-res.Messages:
			if err := printEvent(c.Out, m, tmpl); err != nil {
				return err
			}
		case err := <-res.Err:
			if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
	}
}

// eventsTemplate parses --format ("json" is {{json .}}); nil prints
// docker's default line. Like docker, a template that cannot render an
// empty event is refused up front.
func eventsTemplate(text string) (*template.Template, error) {
	switch text {
	case "":
		return nil, nil
	case format.JSONKey:
		text = "{{json .}}"
	}
	tmpl, err := format.Parse(text)
	if err != nil {
		return nil, err
	}
	return tmpl, tmpl.Execute(io.Discard, eventView{})
}

// eventView is what --format templates see: the message with the
// top-level status, id and from fields docker's CLI still shows for
// container and image events (in docker's JSON order).
type eventView struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

func newEventView(m events.Message) eventView {
	v := eventView{Message: m}
	switch m.Type {
	case events.ContainerEventType:
		v.Status, v.ID, v.From = string(m.Action), m.Actor.ID, m.Actor.Attributes["image"]
	case events.ImageEventType:
		v.Status, v.ID = string(m.Action), m.Actor.ID
	}
	return v
}

// printEvent writes one event: through tmpl, or as docker's default line
// "<time> <type> <action> <id> (<k=v>, ...)" with the attributes sorted.
func printEvent(w io.Writer, m events.Message, tmpl *template.Template) error {
	if tmpl != nil {
		if err := tmpl.Execute(w, newEventView(m)); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
	var b strings.Builder
	switch {
	case m.TimeNano != 0:
		b.WriteString(time.Unix(0, m.TimeNano).Format(rfc3339NanoFixed) + " ")
	case m.Time != 0:
		b.WriteString(time.Unix(m.Time, 0).Format(rfc3339NanoFixed) + " ")
	}
	fmt.Fprintf(&b, "%s %s %s", m.Type, m.Action, m.Actor.ID)
	if len(m.Actor.Attributes) > 0 {
		var attrs []string
		for _, k := range slices.Sorted(maps.Keys(m.Actor.Attributes)) {
			attrs = append(attrs, k+"="+m.Actor.Attributes[k])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(attrs, ", "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
