package firewall

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// NFTables is a Firewall over nftables tables that berth owns alone: one
// of family ip and, while some network has IPv6, one of family ip6, both
// named after the table name. Every Apply re-creates whatever is missing of
// the tables and their chains, flushes the chains and fills them again, in
// a single netlink transaction: no packet ever sees a half-written ruleset,
// and nothing outside the tables is touched. (Deleting and re-creating a
// whole table would be simpler but re-registers the base chains' hooks,
// which costs the kernel an RCU grace period.)
//
// Any transaction that deletes something waits for an RCU grace period in
// the kernel (~10 ms), while additions are cheap. So when the only change
// since the last Apply is new published ports — a container starting —
// Apply appends their rules without flushing anything; removals and
// network changes take the flush-and-refill path.
//
// Layout of each table (the ip6 one has the IPv6 subnets and ports):
//
//	chain prerouting  (nat, prerouting, dstnat): fib daddr type local -> jump ports
//	chain output      (nat, output, dstnat):     fib daddr type local -> jump ports
//	                  (ip6: not for ::1, which the port reservation forwards)
//	chain ports       one DNAT rule per published port
//	chain postrouting (nat, postrouting, srcnat), per network:
//	    oifname br ip saddr 127.0.0.0/8 masquerade     host's 127.0.0.1 to a published port (route_localnet; ip only)
//	    oifname br ip saddr subnet ct status dnat masquerade   hairpin: a container to a published port
//	    ip saddr subnet oifname != br masquerade        outbound NAT, NAT66 in ip6 (not for --internal)
//	chain forward     (filter, forward, 0):
//	    ct state established,related accept
//	    per network: oifname br iifname != br ct status dnat accept (published ports; not --internal)
//	                 oifname br iifname != br drop      (isolation: nothing else comes in)
//	                 iifname br oifname != br drop      (--internal only: nothing goes out)
type NFTables struct {
	table string
	mu    sync.Mutex
	// what the kernel holds, as far as this process knows, per family;
	// nil: unknown
	applied map[nftables.TableFamily]*Ruleset
}

// NewNFTables returns a firewall over the tables named table (e.g. "berth").
func NewNFTables(table string) (*NFTables, error) {
	if table == "" {
		return nil, errors.New("nftables: empty table name")
	}
	return &NFTables{table: table, applied: map[nftables.TableFamily]*Ruleset{}}, nil
}

// families are the table families, each with the part of a ruleset it
// holds.
var families = []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6}

// part is the share of rs of one family: its networks (with that family's
// subnet as Subnet) and ports. The ip6 part is empty when no network has
// IPv6.
func part(rs Ruleset, f nftables.TableFamily) Ruleset {
	var out Ruleset
	v6 := f == nftables.TableFamilyIPv6
	for _, n := range rs.Networks {
		if v6 {
			if !n.Subnet6.IsValid() {
				continue
			}
			n.Subnet = n.Subnet6
		}
		n.Subnet6 = netip.Prefix{}
		out.Networks = append(out.Networks, n)
	}
	for _, p := range rs.Ports {
		if p.HostIP.Is6() == v6 && len(out.Networks) > 0 {
			out.Ports = append(out.Ports, p)
		}
	}
	return out
}

// Apply makes the tables hold the rules for rs.
func (f *NFTables) Apply(ctx context.Context, rs Ruleset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	parts := map[nftables.TableFamily]Ruleset{}
	incremental := true
	var added []Port
	for _, fam := range families {
		parts[fam] = part(rs, fam)
		prev := f.applied[fam]
		if prev == nil || !slices.Equal(prev.Networks, parts[fam].Networks) {
			incremental = false
			continue
		}
		more, ok := addedPorts(prev.Ports, parts[fam].Ports)
		incremental = incremental && ok
		added = append(added, more...)
	}
	if incremental {
		if len(added) == 0 {
			return nil
		}
		for _, p := range added {
			fam := nftables.TableFamilyIPv4
			if p.HostIP.Is6() {
				fam = nftables.TableFamilyIPv6
			}
			t := &nftables.Table{Name: f.table, Family: fam}
			c.AddRule(&nftables.Rule{Table: t, Chain: &nftables.Chain{Name: "ports", Table: t}, Exprs: portRule(p)})
		}
		if err := c.Flush(); err == nil {
			f.remember(parts)
			return nil
		}
		// a table changed behind our back: rebuild them
	}
	prev6 := f.applied[nftables.TableFamilyIPv6]
	clear(f.applied)
	for _, fam := range families {
		t := &nftables.Table{Name: f.table, Family: fam}
		if fam == nftables.TableFamilyIPv6 && len(parts[fam].Networks) == 0 {
			// no IPv6 network: no ip6 table (add-then-delete is valid
			// whether or not it exists), unless known to be gone already
			if prev6 == nil || len(prev6.Networks) > 0 {
				c.AddTable(t)
				c.DelTable(t)
			}
			continue
		}
		f.build(c, c.AddTable(t), parts[fam])
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: apply table %s: %w", f.table, err)
	}
	f.remember(parts)
	return nil
}

func (f *NFTables) remember(parts map[nftables.TableFamily]Ruleset) {
	for fam, p := range parts {
		f.applied[fam] = cloneRuleset(p)
	}
}

// addedPorts returns the ports of cur missing from prev, and whether prev
// is contained in cur (nothing was removed).
func addedPorts(prev, cur []Port) ([]Port, bool) {
	left := map[Port]int{}
	for _, p := range prev {
		left[p]++
	}
	var added []Port
	for _, p := range cur {
		if left[p] > 0 {
			left[p]--
			continue
		}
		added = append(added, p)
	}
	for _, n := range left {
		if n > 0 {
			return nil, false
		}
	}
	return added, true
}

func cloneRuleset(rs Ruleset) *Ruleset {
	return &Ruleset{Networks: slices.Clone(rs.Networks), Ports: slices.Clone(rs.Ports)}
}

// portRule is the DNAT rule of one published port.
func portRule(p Port) rule {
	r := rule{}
	if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
		r = r.ipDaddr(p.HostIP)
	}
	return r.l4proto(p.Proto).dport(p.HostPort).dnat(p.ContainerIP, p.ContainerPort)
}

// Delete removes the tables. Idempotent.
func (f *NFTables) Delete(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	clear(f.applied)
	for _, fam := range families {
		t := &nftables.Table{Name: f.table, Family: fam}
		// add-then-delete makes the delete valid whether or not the table exists
		c.AddTable(t)
		c.DelTable(t)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table %s: %w", f.table, err)
	}
	return nil
}

func (f *NFTables) build(c *nftables.Conn, t *nftables.Table, rs Ruleset) {
	accept := nftables.ChainPolicyAccept
	// adding an existing chain is a no-op; flushing it empties it within
	// the same transaction
	base := func(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		ch := c.AddChain(&nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio, Policy: &accept})
		c.FlushChain(ch)
		return ch
	}
	ports := c.AddChain(&nftables.Chain{Name: "ports", Table: t})
	c.FlushChain(ports)
	pre := base("prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest)
	out := base("output", nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest)
	post := base("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
	fwd := base("forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)

	add := func(ch *nftables.Chain, r rule) { c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: r}) }

	add(pre, rule{}.fibDaddrType(unix.RTN_LOCAL).jump(ports.Name))
	if t.Family == nftables.TableFamilyIPv6 {
		add(out, rule{}.fibDaddrType(unix.RTN_LOCAL).ipDaddrNot(netip.IPv6Loopback()).jump(ports.Name))
	} else {
		add(out, rule{}.fibDaddrType(unix.RTN_LOCAL).jump(ports.Name))
	}
	for _, p := range rs.Ports {
		add(ports, portRule(p))
	}

	add(fwd, rule{}.ctState(ctEstablished|ctRelated).accept())
	for _, n := range rs.Networks {
		if t.Family == nftables.TableFamilyIPv4 {
			add(post, rule{}.oifname(n.Bridge, true).ipSaddr(loopback).masquerade())
		}
		add(post, rule{}.oifname(n.Bridge, true).ipSaddr(n.Subnet).ctStatusDNAT().masquerade())
		if !n.Internal {
			add(post, rule{}.ipSaddr(n.Subnet).oifname(n.Bridge, false).masquerade())
			add(fwd, rule{}.oifname(n.Bridge, true).iifname(n.Bridge, false).ctStatusDNAT().accept())
		}
		add(fwd, rule{}.oifname(n.Bridge, true).iifname(n.Bridge, false).drop())
		if n.Internal {
			add(fwd, rule{}.iifname(n.Bridge, true).oifname(n.Bridge, false).drop())
		}
	}
}
