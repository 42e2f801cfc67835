package testutil

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Net is the private networking of a test daemon: its default bridge, that
// bridge's subnet and its nftables table, unique per daemon so that test
// daemons never share kernel state with each other or with a real berthd.
type Net struct {
	Bridge string // Linux bridge of the "bridge" network, bt<8 hex>
	BIP    string // 10.<a>.<b>.1/24, a in 200-249
	Table  string // nftables table, bt_<8 hex>
}

func newNet() (Net, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return Net{}, err
	}
	tag := fmt.Sprintf("%x", b[:4])
	return Net{
		Bridge: "bt" + tag,
		BIP:    fmt.Sprintf("10.%d.%d.1/24", 200+int(b[4])%50, b[5]),
		Table:  "bt_" + tag,
	}, nil
}

func (n Net) args() []string {
	return []string{"--bridge", n.Bridge, "--bip", n.BIP, "--firewall-table", n.Table}
}

// remove deletes the daemon's default bridge and nftables table, which a
// stopped berthd leaves in place (like dockerd), and any bridge or veth of
// its networks that a test left behind (berth marks its links with the
// alias "berth:<table>:..."). Absent ones are fine.
func (n Net) remove() error {
	var errs []error
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 || !strings.Contains(line, "alias berth:"+n.Table+":") {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
			if out, err := exec.Command("ip", "link", "del", name).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
				errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", name, err, out))
			}
		}
	}
	if out, err := exec.Command("ip", "link", "del", n.Bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
		errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", n.Bridge, err, out))
	}
	for _, family := range []string{"ip", "ip6"} { // ip6: networks with IPv6
		if out, err := exec.Command("nft", "delete", "table", family, n.Table).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file or directory") {
			errs = append(errs, fmt.Errorf("nft delete table %s %s: %v: %s", family, n.Table, err, out))
		}
	}
	return errors.Join(errs...)
}
