package network

import (
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestCreateUserNetNS: the network namespace belongs to the user namespace
// made with it (not the host's), and its loopback is up.
func TestCreateUserNetNS(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	userPath, netPath := filepath.Join(dir, "user"), filepath.Join(dir, "net")
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	if err := CreateUserNetNS(userPath, netPath, maps, maps); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := errors.Join(RemoveNetNS(netPath), RemoveNetNS(userPath)); err != nil {
			t.Error(err)
		}
	})
	nfd, err := unix.Open(netPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(nfd)
	owner, err := unix.IoctlRetInt(nfd, unix.NS_GET_USERNS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(owner)
	var got, want unix.Stat_t
	if err := unix.Fstat(owner, &got); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(userPath, &want); err != nil {
		t.Fatal(err)
	}
	if got.Ino != want.Ino {
		t.Errorf("the network namespace's owner is user namespace %d, want the one at %s (%d)", got.Ino, userPath, want.Ino)
	}
	var host syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/user", &host); err != nil {
		t.Fatal(err)
	}
	if host.Ino == want.Ino {
		t.Error("the user namespace is the host's")
	}
	if err := InNetNS(netPath, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if lo.Attrs().Flags&net.FlagUp == 0 {
			t.Error("lo is down")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
