// Package cgroups reads what the kernel accounts of a live container: its
// CPU, memory, block I/O and pids counters from its cgroups (v1, v2 or the
// hybrid of both, found from /proc/<pid>/cgroup and the host's mount table,
// never assumed), its network counters from /proc/<pid>/net/dev (the
// container's network namespace), and the processes it holds. Results are in
// the Engine API's stats shape. Everything is read below Host.Root, so tests
// run over a fake tree without root.
//
// The files are read by hand rather than through containerd's cgroups
// module: the few counters docker reports are plain text files, and the
// module would bring its own dependencies (systemd D-Bus, protobuf stats
// types) into berthd for ~200 lines of parsing.
package cgroups

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Mode is the host's cgroup layout.
type Mode string

// The layouts: every controller on v1 hierarchies, v1 controllers beside a
// unified (v2) mount without them, or v2 alone.
const (
	V1     Mode = "v1"
	Hybrid Mode = "hybrid"
	V2     Mode = "v2"
)

// Host reads the cgroups and /proc of the machine whose root is Root ("/"
// when empty).
type Host struct {
	Root string
}

func (h Host) path(p ...string) string {
	root := h.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(append([]string{root}, p...)...)
}

// mount is one cgroup filesystem of the host's mount table.
type mount struct {
	point       string
	v2          bool
	controllers []string // of a v1 hierarchy
}

// mounts lists the cgroup and cgroup2 mounts of /proc/self/mountinfo.
func (h Host) mounts() ([]mount, error) {
	data, err := os.ReadFile(h.path("proc/self/mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var out []mount
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// 36 35 0:31 / /sys/fs/cgroup/memory rw,... shared:15 - cgroup cgroup rw,memory
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(tail) < 3 {
			continue
		}
		switch tail[0] {
		case "cgroup2":
			out = append(out, mount{point: unescape(fields[4]), v2: true})
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(tail[2], ",") {
				if o != "rw" && o != "ro" && !strings.Contains(o, "=") {
					ctrls = append(ctrls, o)
				}
			}
			out = append(out, mount{point: unescape(fields[4]), controllers: ctrls})
		}
	}
	return out, nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Mode detects the host's cgroup layout from its mount table.
func (h Host) Mode() (Mode, error) {
	ms, err := h.mounts()
	if err != nil {
		return "", err
	}
	var v1, v2 bool
	for _, m := range ms {
		if m.v2 {
			v2 = true
		} else if len(m.controllers) > 0 {
			v1 = true
		}
	}
	switch {
	case v1 && v2:
		return Hybrid, nil
	case v1:
		return V1, nil
	case v2:
		return V2, nil
	}
	return "", errdefs.ErrNotImplemented.WithMessage("cgroups: no cgroup filesystem is mounted")
}

// Cgroup is one process's cgroups: the folder of each v1 controller it is
// in, or its unified (v2) folder when its controllers live there.
type Cgroup struct {
	v1 map[string]string // controller -> folder
	v2 string            // "" unless the controllers are v2's
}

// V2 reports whether the cgroup's controllers are v2's.
func (c *Cgroup) V2() bool { return c.v2 != "" }

// dir is the folder holding controller's files ("" when it has none).
func (c *Cgroup) dir(controller string) string {
	if c.v2 != "" {
		return c.v2
	}
	return c.v1[controller]
}

// Of finds the cgroups of pid. Its v1 controllers win when it is in any (v1
// or hybrid hosts); otherwise its unified cgroup holds them.
func (h Host) Of(pid int) (*Cgroup, error) {
	data, err := os.ReadFile(h.path("proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("process %d is gone", pid))
		}
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	ms, err := h.mounts()
	if err != nil {
		return nil, err
	}
	c := &Cgroup{v1: map[string]string{}}
	var unified string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// hierarchy-id:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			unified = parts[2]
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			for _, m := range ms {
				if !m.v2 && contains(m.controllers, ctrl) {
					c.v1[ctrl] = h.path(m.point, parts[2])
				}
			}
		}
	}
	if _, ok := c.v1["memory"]; ok {
		return c, nil
	}
	for _, m := range ms {
		if m.v2 {
			c.v2 = h.path(m.point, unified)
			return c, nil
		}
	}
	if len(c.v1) == 0 {
		return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("cgroups of process %d not found", pid))
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Pids lists the processes of the cgroup (cgroup.procs), in the reader's pid
// namespace.
func (c *Cgroup) Pids() ([]int, error) {
	dir := c.dir("pids")
	if dir == "" {
		dir = c.dir("memory")
	}
	if dir == "" {
		for _, d := range c.v1 {
			dir = d
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// readUint reads a file holding one number; "max" is 0 (no limit), and so
// is a file that is missing.
func readUint(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(data))
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// readKeyed reads a "key value" per line file (memory.stat, cpu.stat).
func readKeyed(path string) map[string]uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	m := map[string]uint64{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}
