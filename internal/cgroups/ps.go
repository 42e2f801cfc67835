package cgroups

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// PS runs the host's ps with args and, first, with -q and pids as well (so
// ps reads only those processes); some options (f) refuse -q, and ps is
// then run with args alone. The error is ps's first line of stderr.
func PS(ctx context.Context, args []string, pids []int) ([]byte, error) {
	list := make([]string, len(pids))
	for i, p := range pids {
		list[i] = strconv.Itoa(p)
	}
	if len(pids) > 0 {
		out, err := exec.CommandContext(ctx, "ps", append(append([]string(nil), args...), "-q", strings.Join(list, ","))...).Output()
		if err == nil {
			return out, nil
		}
	}
	out, err := exec.CommandContext(ctx, "ps", args...).Output()
	if err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			if line, _, _ := bytes.Cut(ee.Stderr, []byte("\n")); len(line) > 0 {
				err = errors.New(string(line))
			}
		}
		return nil, fmt.Errorf("ps: %w", err)
	}
	return out, nil
}
