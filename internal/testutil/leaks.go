package testutil

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// HostScope says where one berthd keeps its state on the host.
type HostScope struct {
	DataRoot string // --data-root
	ExecRoot string // --exec-root
	Table    string // --firewall-table: its nftables table, and the "berth:<table>:" alias of its bridges
}

// HostState is a snapshot of what a berthd holds on the host outside its
// own process: what must go away with the containers, networks and
// volumes that hold it. Each entry is one human-readable line; compare two
// snapshots with Extra.
type HostState struct {
	Mounts        []string // mount points under the data and exec roots (rootfs overlays, netns files, volumes)
	Links         []string // its bridges and the veths plugged into them
	NetNS         []string // files in <exec-root>/netns
	ContainerDirs []string // <data-root>/containers/*, <exec-root>/containers/*, <exec-root>/runc/*
	Snapshots     []string // <data-root>/snapshot/*
	Volumes       []string // <data-root>/volumes/*
	NftRules      []string // the rules of its nftables tables, without their handles
	Shims         []string // berth-shim processes serving its exec root
}

// Scope is where d keeps its state.
func (d *Daemon) Scope() HostScope {
	return HostScope{DataRoot: d.DataRoot, ExecRoot: d.ExecRoot, Table: d.Net.Table}
}

// HostState takes a snapshot of what d holds on the host.
func (d *Daemon) HostState(t testing.TB) HostState {
	t.Helper()
	s, err := TakeHostState(d.Scope())
	if err != nil {
		t.Fatalf("host state: %v", err)
	}
	return s
}

// TakeHostState takes a snapshot of what the berthd with scope s holds on
// the host. A part that cannot be read is an error, never an empty list.
func TakeHostState(s HostScope) (HostState, error) {
	var st HostState
	var err error
	for _, root := range []string{s.DataRoot, s.ExecRoot} {
		st.Mounts = append(st.Mounts, MountsUnder(root)...)
	}
	if st.Links, err = berthLinks(s.Table); err != nil {
		return st, err
	}
	if st.NetNS, err = dirEntries(filepath.Join(s.ExecRoot, "netns")); err != nil {
		return st, err
	}
	for _, dir := range []string{filepath.Join(s.DataRoot, "containers"), filepath.Join(s.ExecRoot, "containers"), filepath.Join(s.ExecRoot, "runc")} {
		ents, err := dirEntries(dir)
		if err != nil {
			return st, err
		}
		st.ContainerDirs = append(st.ContainerDirs, ents...)
	}
	if st.Snapshots, err = dirEntries(filepath.Join(s.DataRoot, "snapshot")); err != nil {
		return st, err
	}
	if st.Volumes, err = dirEntries(filepath.Join(s.DataRoot, "volumes")); err != nil {
		return st, err
	}
	if st.NftRules, err = nftRules(s.Table); err != nil {
		return st, err
	}
	for _, pid := range ShimPids(s.ExecRoot) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		st.Shims = append(st.Shims, fmt.Sprintf("pid %d: %s", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	st.sort()
	return st, nil
}

func (s *HostState) parts() []struct {
	name  string
	items *[]string
} {
	return []struct {
		name  string
		items *[]string
	}{
		{"mount", &s.Mounts}, {"link", &s.Links}, {"netns", &s.NetNS}, {"container dir", &s.ContainerDirs},
		{"snapshot", &s.Snapshots}, {"volume", &s.Volumes}, {"nft rule", &s.NftRules}, {"shim", &s.Shims},
	}
}

func (s *HostState) sort() {
	for _, p := range s.parts() {
		slices.Sort(*p.items)
	}
}

// Extra lists what s holds that base did not, one "<kind>: <item>" line
// each (an nftables rule present twice where base had it once counts).
// Shims are compared by command line, not pid.
func (s HostState) Extra(base HostState) []string {
	var extra []string
	bp := base.parts()
	for i, p := range s.parts() {
		left := map[string]int{}
		for _, it := range *bp[i].items {
			left[hostKey(p.name, it)]++
		}
		for _, it := range *p.items {
			k := hostKey(p.name, it)
			if left[k] > 0 {
				left[k]--
				continue
			}
			extra = append(extra, p.name+": "+it)
		}
	}
	return extra
}

// Count is how many items s holds in all.
func (s HostState) Count() int {
	n := 0
	for _, p := range s.parts() {
		n += len(*p.items)
	}
	return n
}

func hostKey(kind, item string) string {
	if kind == "shim" {
		_, cmd, _ := strings.Cut(item, ": ")
		return cmd
	}
	return item
}

// CheckNoLeaks waits up to timeout for d's host state to hold nothing
// more than base (teardown is asynchronous for --rm containers and
// removed networks), then fails t listing every leftover. It returns the
// leftovers.
func (d *Daemon) CheckNoLeaks(t testing.TB, base HostState, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		extra := d.HostState(t).Extra(base)
		if len(extra) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if len(extra) > 40 {
				extra = append(extra[:40], fmt.Sprintf("... and %d more", len(extra)-40))
			}
			t.Errorf("berthd left on the host, beyond its state before:\n  %s", strings.Join(extra, "\n  "))
			return extra
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dirEntries lists dir's entries as paths; a missing dir has none.
func dirEntries(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out, nil
}

// berthLinks lists the bridges berth marked with "berth:<table>:" aliases
// and the links whose master is one of them (the containers' veths).
func berthLinks(table string) ([]string, error) {
	out, err := exec.Command("ip", "-j", "-d", "link", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("ip link show: %w", err)
	}
	var links []struct {
		Name   string `json:"ifname"`
		Alias  string `json:"ifalias"`
		Master string `json:"master"`
		Info   struct {
			Kind string `json:"info_kind"`
		} `json:"linkinfo"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("ip -j link show: %w", err)
	}
	bridges := map[string]bool{}
	for _, l := range links {
		if strings.HasPrefix(l.Alias, "berth:"+table+":") {
			bridges[l.Name] = true
		}
	}
	var found []string
	for _, l := range links {
		switch {
		case bridges[l.Name]:
			found = append(found, fmt.Sprintf("%s %s (%s)", l.Info.Kind, l.Name, l.Alias))
		case bridges[l.Master]:
			found = append(found, fmt.Sprintf("%s %s (master %s)", l.Info.Kind, l.Name, l.Master))
		}
	}
	return found, nil
}

// nftRules lists the rules of the ip and ip6 tables named table, as
// "<family> <table> <chain>: <rule>" without the rule's handle.
func nftRules(table string) ([]string, error) {
	var rules []string
	for _, family := range []string{"ip", "ip6"} {
		out, err := exec.Command("nft", "-a", "list", "table", family, table).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "No such file or directory") {
				continue
			}
			return nil, fmt.Errorf("nft list table %s %s: %v: %s", family, table, err, out)
		}
		rules = append(rules, parseNftRules(family, table, string(out))...)
	}
	return rules, nil
}

// parseNftRules reads the rules out of `nft -a list table` output.
func parseNftRules(family, table, out string) []string {
	var rules []string
	chain := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		text, _, hasHandle := strings.Cut(line, " # handle ")
		switch {
		case strings.HasPrefix(line, "chain "):
			chain = strings.Fields(line)[1]
		case line == "}":
			chain = ""
		case hasHandle && chain != "":
			rules = append(rules, fmt.Sprintf("%s %s %s: %s", family, table, chain, text))
		}
	}
	return rules
}
