package shim

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const cgroupRoot = "/sys/fs/cgroup"

// oomCounter reads the kernel's count of OOM kills in the container's memory
// cgroup (v1 memory.oom_control or v2 memory.events, whichever the host
// uses), so the exit can say whether the OOM killer struck.
type oomCounter struct {
	file  string // "" when unknown
	start int64
}

// openOOMCounter finds pid's memory cgroup and remembers its current count.
func openOOMCounter(pid int) oomCounter {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return oomCounter{}
	}
	var v1, v2 string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" && parts[0] == "0" {
			v2 = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1 = parts[2]
			}
		}
	}
	c := oomCounter{}
	switch {
	case v1 != "":
		c.file = filepath.Join(cgroupRoot, "memory", v1, "memory.oom_control")
	case v2 != "":
		c.file = filepath.Join(cgroupRoot, v2, "memory.events")
	default:
		return c
	}
	c.start = c.count()
	return c
}

// count is the oom_kill counter, 0 when unreadable.
func (c oomCounter) count() int64 {
	if c.file == "" {
		return 0
	}
	data, err := os.ReadFile(c.file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// killed reports whether the OOM killer struck since the container was created.
func (c oomCounter) killed() bool { return c.file != "" && c.count() > c.start }
