package format

import (
	"fmt"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
)

// StatsTable is docker's default `stats` table.
const StatsTable = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

// StatsFormat turns the --format value of `stats` (empty for the default)
// into the format to render.
func StatsFormat(source string) Format {
	if source == "" || source == TableKey {
		return StatsTable
	}
	return Format(source)
}

// StatsHeader titles the columns of `stats`.
func StatsHeader() Header {
	return Header{
		"Container": "CONTAINER",
		"ID":        "CONTAINER ID",
		"Name":      "NAME",
		"CPUPerc":   "CPU %",
		"MemUsage":  "MEM USAGE / LIMIT",
		"MemPerc":   "MEM %",
		"NetIO":     "NET I/O",
		"BlockIO":   "BLOCK I/O",
		"PIDs":      "PIDS",
	}
}

// Stats is one container's figures as docker's CLI derives them from a
// stats sample.
type Stats struct {
	Container        string // as the user named it, or its id
	Name, ID         string
	CPUPercentage    float64
	Memory           float64
	MemoryLimit      float64
	MemoryPercentage float64
	NetworkRx        float64
	NetworkTx        float64
	BlockRead        float64
	BlockWrite       float64
	PidsCurrent      uint64
	// Invalid marks a container whose stats could not be read.
	Invalid bool
}

// NewStats computes the figures of a sample as docker's CLI does: CPU %
// from the delta to precpu_stats over the host's, memory without the
// inactive page cache (total_inactive_file on cgroup v1, inactive_file on
// v2), network and block I/O summed over interfaces and devices.
func NewStats(container string, s *container.StatsResponse) Stats {
	st := Stats{
		Container:   container,
		Name:        strings.TrimPrefix(s.Name, "/"),
		ID:          s.ID,
		PidsCurrent: s.PidsStats.Current,
	}
	cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	systemDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	cpus := float64(s.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if systemDelta > 0 && cpuDelta > 0 {
		st.CPUPercentage = cpuDelta / systemDelta * cpus * 100
	}
	mem := s.MemoryStats
	usage := float64(mem.Usage)
	if v, ok := mem.Stats["total_inactive_file"]; ok && v < mem.Usage {
		usage -= float64(v)
	} else if v := mem.Stats["inactive_file"]; v < mem.Usage {
		usage -= float64(v)
	}
	st.Memory, st.MemoryLimit = usage, float64(mem.Limit)
	if mem.Limit != 0 {
		st.MemoryPercentage = usage / float64(mem.Limit) * 100
	}
	for _, n := range s.Networks {
		st.NetworkRx += float64(n.RxBytes)
		st.NetworkTx += float64(n.TxBytes)
	}
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			st.BlockRead += float64(e.Value)
		case "write":
			st.BlockWrite += float64(e.Value)
		}
	}
	return st
}

// StatsRow is one row of `stats`.
type StatsRow struct {
	s     Stats
	trunc bool
}

// NewStatsRow makes a row; trunc shortens the id to 12 characters.
func NewStatsRow(s Stats, trunc bool) *StatsRow { return &StatsRow{s: s, trunc: trunc} }

// Headers names the columns.
func (r *StatsRow) Headers() map[string]string { return StatsHeader() }

// MarshalJSON encodes the row for --format json.
func (r *StatsRow) MarshalJSON() ([]byte, error) { return MarshalMethods(r) }

// Container is the container as named on the command line.
func (r *StatsRow) Container() string { return r.s.Container }

// Name is the container's name.
func (r *StatsRow) Name() string {
	if r.s.Invalid && r.s.Name == "" {
		return "--"
	}
	return r.s.Name
}

// ID is the container's id.
func (r *StatsRow) ID() string {
	if r.trunc {
		return TruncateID(r.s.ID)
	}
	return r.s.ID
}

// CPUPerc is the CPU use in percent of one CPU.
func (r *StatsRow) CPUPerc() string {
	return r.percent(r.s.CPUPercentage)
}

// MemUsage is the memory in use and its limit.
func (r *StatsRow) MemUsage() string {
	if r.s.Invalid {
		return "-- / --"
	}
	return units.BytesSize(r.s.Memory) + " / " + units.BytesSize(r.s.MemoryLimit)
}

// MemPerc is the memory in use in percent of the limit.
func (r *StatsRow) MemPerc() string {
	return r.percent(r.s.MemoryPercentage)
}

// NetIO is the bytes received and sent.
func (r *StatsRow) NetIO() string {
	return r.ioPair(r.s.NetworkRx, r.s.NetworkTx)
}

// BlockIO is the bytes read and written.
func (r *StatsRow) BlockIO() string {
	return r.ioPair(r.s.BlockRead, r.s.BlockWrite)
}

// percent is p with two decimals, "--" for a container without stats.
func (r *StatsRow) percent(p float64) string {
	if r.s.Invalid {
		return "--"
	}
	return fmt.Sprintf("%.2f%%", p)
}

// ioPair is "in / out" in human sizes, "--" for a container without stats.
func (r *StatsRow) ioPair(in, out float64) string {
	if r.s.Invalid {
		return "--"
	}
	return units.HumanSizeWithPrecision(in, 3) + " / " + units.HumanSizeWithPrecision(out, 3)
}

// PIDs is the number of processes.
func (r *StatsRow) PIDs() string {
	if r.s.Invalid {
		return "--"
	}
	return fmt.Sprintf("%d", r.s.PidsCurrent)
}
