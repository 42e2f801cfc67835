package daemon

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// ContainerTop lists the container's processes (docker top): the host's ps
// with psArgs (-ef by default), keeping the rows of the container's
// processes, as dockerd does.
func (d *Daemon) ContainerTop(ctx context.Context, name, psArgs string) (*containertypes.TopResponse, error) {
	if psArgs == "" {
		psArgs = "-ef"
	}
	if err := validatePSArgs(psArgs); err != nil {
		return nil, err
	}
	c, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	status, pid := c.State.Status, c.State.Pid
	c.Unlock()
	switch {
	case status == containertypes.StateRestarting:
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is restarting, wait until the container is running", c.ID))
	case status != containertypes.StateRunning && status != containertypes.StatePaused, d.task(c.ID) == nil:
		return nil, errNotRunning(c.ID)
	}
	if d.accounting == nil {
		return nil, errdefs.ErrNotImplemented.WithMessage("top is not supported by this daemon")
	}
	pids, err := d.accounting.Pids(ctx, pid)
	if err != nil {
		return nil, err
	}
	out, err := d.accounting.PS(ctx, strings.Split(psArgs, " "), pids)
	if err != nil {
		return nil, errdefs.ErrUnknown.WithMessage(fmt.Sprintf("Error running ps: %v", err))
	}
	resp, err := parsePS(out, pids)
	if err != nil {
		return nil, err
	}
	d.logContainerEvent(c, events.ActionTop, nil)
	return resp, nil
}

// psKeyword matches a ps -o column renamed to something starting with PID
// (-o user=PID), which would fool the search for the PID column.
var psKeyword = regexp.MustCompile(`\s+(\S*)=\s*(PID\S*)`)

// validatePSArgs refuses a ps_args that renames a column PID (moby's rule).
func validatePSArgs(psArgs string) error {
	for _, group := range psKeyword.FindAllStringSubmatch(psArgs, -1) {
		if len(group) >= 3 && group[1] != "pid" {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("specifying \"%s=%s\" is not allowed", group[1], group[2]))
		}
	}
	return nil
}

// parsePS keeps the rows of ps output whose PID is one of pids. The last
// column (the command) may hold spaces: a row's extra fields join it.
func parsePS(out []byte, pids []int) (*containertypes.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, errdefs.ErrUnknown.WithMessage("Couldn't find PID field in ps output")
	}
	titles := strings.Fields(lines[0])
	pidIndex := slices.Index(titles, "PID")
	if pidIndex < 0 {
		return nil, errdefs.ErrUnknown.WithMessage("Couldn't find PID field in ps output")
	}
	resp := &containertypes.TopResponse{Titles: titles, Processes: [][]string{}}
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) <= pidIndex {
			continue
		}
		p, err := strconv.Atoi(fields[pidIndex])
		if err != nil {
			return nil, errdefs.ErrUnknown.WithMessage(fmt.Sprintf("Unexpected pid '%s': %s", fields[pidIndex], err))
		}
		if !slices.Contains(pids, p) {
			continue
		}
		if len(fields) > len(titles) {
			fields = append(fields[:len(titles)-1], strings.Join(fields[len(titles)-1:], " "))
		}
		resp.Processes = append(resp.Processes, fields)
	}
	return resp, nil
}
