package firewall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// NFTables is a Firewall over one nftables table (family ip) that berth owns
// alone. Every Apply re-creates whatever is missing of the table and its
// chains, flushes the chains and fills them again, in a single netlink
// transaction: no packet ever sees a half-written ruleset, and nothing
// outside the table is touched. (Deleting and re-creating the whole table
// would be simpler but re-registers the base chains' hooks, which costs the
// kernel an RCU grace period.)
//
// Any transaction that deletes something waits for an RCU grace period in
// the kernel (~10 ms), while additions are cheap. So when the only change
// since the last Apply is new published ports — a container starting —
// Apply appends their rules without flushing anything; removals and
// network changes take the flush-and-refill path.
//
// Layout of the table:
//
//	chain prerouting  (nat, prerouting, dstnat): fib daddr type local -> jump ports
//	chain output      (nat, output, dstnat):     fib daddr type local -> jump ports
//	chain ports       one DNAT rule per published port
//	chain postrouting (nat, postrouting, srcnat), per network:
//	    oifname br ip saddr 127.0.0.0/8 masquerade     host's 127.0.0.1 to a published port (route_localnet)
//	    oifname br ip saddr subnet ct status dnat masquerade   hairpin: a container to a published port
//	    ip saddr subnet oifname != br masquerade        outbound NAT (not for --internal)
//	chain forward     (filter, forward, 0):
//	    ct state established,related accept
//	    per network: oifname br iifname != br ct status dnat accept (published ports; not --internal)
//	                 oifname br iifname != br drop      (isolation: nothing else comes in)
//	                 iifname br oifname != br drop      (--internal only: nothing goes out)
type NFTables struct {
	table   string
	mu      sync.Mutex
	applied *Ruleset // what the kernel holds, as far as this process knows; nil: unknown
}

// NewNFTables returns a firewall over the table named table (e.g. "berth").
func NewNFTables(table string) (*NFTables, error) {
	if table == "" {
		return nil, errors.New("nftables: empty table name")
	}
	return &NFTables{table: table}, nil
}

// Apply makes the table hold the rules for rs.
func (f *NFTables) Apply(ctx context.Context, rs Ruleset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if f.applied != nil && slices.Equal(f.applied.Networks, rs.Networks) {
		if added, ok := addedPorts(f.applied.Ports, rs.Ports); ok {
			if len(added) == 0 {
				return nil
			}
			t := &nftables.Table{Name: f.table, Family: nftables.TableFamilyIPv4}
			ports := &nftables.Chain{Name: "ports", Table: t}
			for _, p := range added {
				c.AddRule(&nftables.Rule{Table: t, Chain: ports, Exprs: portRule(p)})
			}
			if err := c.Flush(); err == nil {
				f.applied = cloneRuleset(rs)
				return nil
			}
			// the table changed behind our back: rebuild it
		}
	}
	f.applied = nil
	t := c.AddTable(&nftables.Table{Name: f.table, Family: nftables.TableFamilyIPv4})
	f.build(c, t, rs)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: apply table %s: %w", f.table, err)
	}
	f.applied = cloneRuleset(rs)
	return nil
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
	if p.HostIP.IsValid() {
		r = r.ipDaddr(p.HostIP)
	}
	return r.l4proto(p.Proto).dport(p.HostPort).dnat(p.ContainerIP, p.ContainerPort)
}

// Delete removes the table. Idempotent.
func (f *NFTables) Delete(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	f.applied = nil
	t := &nftables.Table{Name: f.table, Family: nftables.TableFamilyIPv4}
	// add-then-delete makes the delete valid whether or not the table exists
	c.AddTable(t)
	c.DelTable(t)
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
	add(out, rule{}.fibDaddrType(unix.RTN_LOCAL).jump(ports.Name))
	for _, p := range rs.Ports {
		add(ports, portRule(p))
	}

	add(fwd, rule{}.ctState(ctEstablished|ctRelated).accept())
	for _, n := range rs.Networks {
		add(post, rule{}.oifname(n.Bridge, true).ipSaddr(loopback).masquerade())
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
