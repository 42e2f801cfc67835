package build

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/disk"

	"github.com/berth-project/berth/internal/backend"
)

// GCConfig is the build cache's garbage collection, daemon.json's
// "builder": {"gc": {...}} as dockerd reads it:
//
//	{"enabled": true, "defaultKeepStorage": "20GB"}
//	{"policy": [{"keepStorage": "512MB", "filter": ["unused-for=1400h"]}, {"all": true, "keepStorage": "20GB"}]}
//
// Sizes are docker's ("10GB", "512MB", bytes); keepStorage and
// defaultKeepStorage are the old names of reservedSpace and
// defaultReservedSpace. Keys match case-insensitively, as in dockerd.
type GCConfig struct {
	// Enabled is nil (on) unless daemon.json says otherwise.
	Enabled *bool `json:",omitempty"`
	// Policy replaces the default policy when set.
	Policy []GCRule `json:",omitempty"`
	// The default policy's sizes ("20GB"); empty ones are dockerd's.
	DefaultReservedSpace string `json:",omitempty"`
	DefaultMaxUsedSpace  string `json:",omitempty"`
	DefaultMinFreeSpace  string `json:",omitempty"`
}

// GCRule is one rule of a GC policy.
type GCRule struct {
	All bool `json:",omitempty"`
	// Filter holds "key=value" prune filters (until, unused-for, id,
	// parent, type, description, inuse, shared, private).
	Filter        GCFilter `json:",omitempty"`
	ReservedSpace string   `json:",omitempty"`
	MaxUsedSpace  string   `json:",omitempty"`
	MinFreeSpace  string   `json:",omitempty"`
}

// GCFilter is a rule's filters, read from ["k=v", ...] or the older
// {"k": {"v": true}} dockerd also accepts.
type GCFilter backend.Filters

// IsEnabled reports whether GC runs (the default).
func (c GCConfig) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// UnmarshalJSON reads dockerd's form, with defaultKeepStorage.
func (c *GCConfig) UnmarshalJSON(data []byte) error {
	var v struct {
		Enabled              *bool
		Policy               []GCRule
		DefaultReservedSpace string
		DefaultMaxUsedSpace  string
		DefaultMinFreeSpace  string
		DefaultKeepStorage   string
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*c = GCConfig{Enabled: v.Enabled, Policy: v.Policy, DefaultReservedSpace: v.DefaultReservedSpace,
		DefaultMaxUsedSpace: v.DefaultMaxUsedSpace, DefaultMinFreeSpace: v.DefaultMinFreeSpace}
	if c.DefaultReservedSpace == "" {
		c.DefaultReservedSpace = v.DefaultKeepStorage
	}
	return nil
}

// UnmarshalJSON reads a rule, with keepStorage.
func (r *GCRule) UnmarshalJSON(data []byte) error {
	var v struct {
		All           bool
		Filter        GCFilter
		ReservedSpace string
		MaxUsedSpace  string
		MinFreeSpace  string
		KeepStorage   string
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = GCRule{All: v.All, Filter: v.Filter, ReservedSpace: v.ReservedSpace, MaxUsedSpace: v.MaxUsedSpace, MinFreeSpace: v.MinFreeSpace}
	if r.ReservedSpace == "" {
		r.ReservedSpace = v.KeepStorage
	}
	return nil
}

// UnmarshalJSON reads ["key=value", ...] or {"key": {"value": true}}.
func (f *GCFilter) UnmarshalJSON(data []byte) error {
	out := GCFilter{}
	var list []string
	if err := json.Unmarshal(data, &list); err == nil {
		for _, s := range list {
			k, v, _ := strings.Cut(s, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			out[k] = append(out[k], strings.TrimSpace(v))
		}
		*f = out
		return nil
	}
	var m map[string]map[string]bool
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("builder GC filter: %w", err)
	}
	for k, vs := range m {
		for v := range vs {
			out[k] = append(out[k], v)
		}
	}
	*f = out
	return nil
}

// GCPolicy is the policy BuildKit's worker runs (its GCPolicy), for the
// state under root: none when GC is disabled, the rules as given, or
// dockerd's default: temporary data (local sources, cache mounts, git
// checkouts) unused for 48h beyond ~13.8% of the reserved space, anything
// unused for 60 days, then the unshared cache and at last everything kept
// under the reserved space (10% of the disk, 2GB when the disk cannot be
// read), 80% of the disk used and 20% free.
func (c GCConfig) GCPolicy(root string) ([]client.PruneInfo, error) {
	if !c.IsEnabled() {
		return nil, nil
	}
	if c.Policy == nil {
		reserved, maxUsed, minFree, err := ruleSpace(c.DefaultReservedSpace, c.DefaultMaxUsedSpace, c.DefaultMinFreeSpace, "default")
		if err != nil {
			return nil, err
		}
		return dockerdGCPolicy(root, reserved, maxUsed, minFree), nil
	}
	out := make([]client.PruneInfo, 0, len(c.Policy))
	for _, r := range c.Policy {
		reserved, maxUsed, minFree, err := ruleSpace(r.ReservedSpace, r.MaxUsedSpace, r.MinFreeSpace, "")
		if err != nil {
			return nil, err
		}
		pi, err := pruneInfo(backend.BuildCachePruneOptions{
			All: r.All, ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree, Filters: backend.Filters(r.Filter),
		}, time.Now())
		if err != nil {
			return nil, fmt.Errorf("builder GC policy: %w", err)
		}
		out = append(out, pi)
	}
	return out, nil
}

// ruleSpace reads a rule's sizes; prefix names the default* keys in errors.
func ruleSpace(reserved, maxUsed, minFree, prefix string) (r, m, f int64, err error) {
	parse := func(v, key string) (int64, error) {
		if v == "" {
			return 0, nil
		}
		n, err := units.RAMInBytes(v)
		if err != nil {
			if prefix != "" {
				key = prefix + strings.ToUpper(key[:1]) + key[1:]
			}
			return 0, fmt.Errorf("failed to parse %s: %w", key, err)
		}
		return n, nil
	}
	if r, err = parse(reserved, "reservedSpace"); err != nil {
		return
	}
	if m, err = parse(maxUsed, "maxUsedSpace"); err != nil {
		return
	}
	f, err = parse(minFree, "minFreeSpace")
	return
}

// dockerdGCPolicy is dockerd's default policy (its builder-next worker's
// DefaultGCPolicy) with the given sizes, or the disk's when none is set.
func dockerdGCPolicy(root string, reserved, maxUsed, minFree int64) []client.PruneInfo {
	if reserved == 0 && maxUsed == 0 && minFree == 0 {
		if st, err := disk.GetDiskStat(existingParent(root)); err == nil {
			reserved = diskPercent(st, 10)
			maxUsed = diskPercent(st, 80)
			minFree = diskPercent(st, 20)
		} else {
			reserved = 2e9
		}
	}
	// ~13.8% (e·π·φ) of the reserved space, at least 512MB, for data
	// cheap to make again.
	temp := max(int64(math.Round(float64(reserved)/100*math.E*math.Pi*math.Phi)), 512e6)
	return []client.PruneInfo{
		{Filter: []string{"type==source.local", "type==exec.cachemount", "type==source.git.checkout"}, KeepDuration: 48 * time.Hour, MaxUsedSpace: temp},
		{KeepDuration: 60 * 24 * time.Hour, ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree},
		{ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree},
		{All: true, ReservedSpace: reserved, MaxUsedSpace: maxUsed, MinFreeSpace: minFree},
	}
}

// diskPercent is percent of the disk, rounded up to whole GB (1e9).
func diskPercent(st disk.DiskStat, percent int64) int64 {
	return (st.Total*percent/100/(1<<30) + 1) * 1e9
}

// existingParent is dir or its nearest existing parent: the state
// directory is made on BuildKit's first start.
func existingParent(dir string) string {
	for dir != "" && dir != "/" {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	return "/"
}
