// Command probe is the isolation tests' prober, a static binary the tests
// build and put in an image FROM scratch. It reports what a container may
// do, one "key value" line per fact, so that one run checks many defaults:
//
//	probe report MAJ:MIN   capability sets, no_new_privs, seccomp mode, the
//	                       masked and read-only paths, whether a node of the
//	                       host's block device MAJ:MIN can be made and opened,
//	                       and the errno of each syscall docker's profile
//	                       denies (called with arguments the kernel would
//	                       refuse, so that an allowed call does nothing)
//	probe euid             the effective uid (a setuid copy shows whether
//	                       setuid still raises privileges)
//	probe swap DIR         swaps DIR (holding etc/os-release: "inside") with
//	                       a link to "/" thousands of times a second,
//	                       forever (the race of CVE-2018-15664)
//	probe cwd              the working directory as getcwd(2) sees it
//	probe sleep            sleeps until killed (a container to exec into)
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe report MAJ:MIN | euid | swap DIR | cwd | sleep")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "report":
		dev := ""
		if len(os.Args) > 2 {
			dev = os.Args[2]
		}
		report(dev)
	case "euid":
		fmt.Println(os.Geteuid())
	case "swap":
		swap(os.Args[2])
	case "cwd":
		wd, err := unix.Getwd()
		if err != nil {
			fmt.Println("cwd-error", errName(err))
			os.Exit(1)
		}
		fmt.Println(wd)
	case "sleep":
		for {
			time.Sleep(time.Hour)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func report(dev string) {
	status()
	for _, p := range maskedPaths {
		fmt.Println("masked", p, masked(p))
	}
	for _, p := range readOnlyPaths {
		fmt.Println("readonly", p, readOnly(p))
	}
	fmt.Println("blockdevs-in-dev", blockDevices("/dev"))
	if dev != "" {
		mknodOpen("block", unix.S_IFBLK, dev)
	}
	mknodOpen("mem", unix.S_IFCHR, "1:1")
	for _, s := range syscalls {
		fmt.Println("syscall", s.name, errName(s.call()))
	}
	// last: a userns unshare that succeeds changes the process for good
	fmt.Println("syscall unshare-newuser", errName(unix.Unshare(unix.CLONE_NEWUSER)))
}

// status prints the capability sets, no_new_privs and seccomp mode of
// /proc/self/status.
func status() {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fmt.Println("status", errName(err))
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp":
			fmt.Println(k, strings.TrimSpace(v))
		}
	}
}

// The paths docker masks and makes read-only (moby's oci/defaults.go, and
// containerd's, which adds /proc/interrupts and powercap).
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
		"/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
	}
	readOnlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
		"/sys", "/sys/fs/cgroup",
	}
)

// masked says how p shows: "absent", "empty" (nothing to read or list: a
// /dev/null or empty read-only tmpfs over it), or "visible".
func masked(p string) string {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		return errName(err)
	}
	if fi.IsDir() {
		entries, err := os.ReadDir(p)
		if err != nil {
			return errName(err)
		}
		if len(entries) == 0 {
			return "empty"
		}
		return "visible"
	}
	b := make([]byte, 1)
	f, err := os.Open(p)
	if err != nil {
		return errName(err)
	}
	defer f.Close()
	if n, _ := f.Read(b); n == 0 {
		return "empty"
	}
	return "visible"
}

// readOnly says whether p is on a read-only mount: "ro", "rw" or "absent".
func readOnly(p string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return "absent"
		}
		return errName(err)
	}
	if st.Flags&unix.ST_RDONLY != 0 {
		return "ro"
	}
	return "rw"
}

// blockDevices counts the block device nodes in dir.
func blockDevices(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type()&os.ModeDevice != 0 && d.Type()&os.ModeCharDevice == 0 {
			n++
		}
		return nil
	})
	return n
}

// mknodOpen makes a node of the device MAJ:MIN in /tmp and opens it for
// reading, printing the errno of each step ("OK" when allowed).
func mknodOpen(name string, typ uint32, dev string) {
	maj, min, _ := strings.Cut(dev, ":")
	ma, _ := strconv.Atoi(maj)
	mi, _ := strconv.Atoi(min)
	p := "/tmp/probe-" + name
	_ = os.Remove(p)
	err := unix.Mknod(p, typ|0o600, int(unix.Mkdev(uint32(ma), uint32(mi))))
	fmt.Println("mknod-"+name, errName(err))
	if err != nil {
		return
	}
	defer os.Remove(p)
	f, err := os.Open(p)
	fmt.Println("open-"+name, errName(err))
	if err == nil {
		f.Close()
	}
}

var bad = uintptr(1) // an address no process maps: EFAULT where read

// syscalls docker's default profile denies (its documentation's list), each
// called so that the kernel, were it to let the call through, would refuse
// it with an errno other than EPERM wherever it checks the arguments
// before the caller's privileges.
var syscalls = []struct {
	name string
	call func() error
}{
	{"unshare", func() error { return sys(unix.SYS_UNSHARE, 0x80000000) }}, // an unknown flag: EINVAL
	{"keyctl", func() error { return sys(unix.SYS_KEYCTL, 9999) }},
	{"add_key", func() error { return sys(unix.SYS_ADD_KEY, bad, bad, 0, 0, 0) }},
	{"request_key", func() error { return sys(unix.SYS_REQUEST_KEY, bad, bad, 0, 0) }},
	{"kexec_load", func() error { return sys(unix.SYS_KEXEC_LOAD, 0, 9999, bad, 0xffff0000) }},
	{"kexec_file_load", func() error { return sys(unix.SYS_KEXEC_FILE_LOAD, ^uintptr(0), ^uintptr(0), 0, 0, 0xffff0000) }},
	{"open_by_handle_at", func() error { return sys(unix.SYS_OPEN_BY_HANDLE_AT, ^uintptr(0), bad, 0) }},
	{"name_to_handle_at", func() error { return sys(unix.SYS_NAME_TO_HANDLE_AT, ^uintptr(0), bad, bad, bad, 0) }},
	{"mount", func() error { return sys(unix.SYS_MOUNT, bad, bad, bad, 0, bad) }},
	{"umount2", func() error { return sys(unix.SYS_UMOUNT2, bad, 0) }},
	{"pivot_root", func() error { return sys(unix.SYS_PIVOT_ROOT, bad, bad) }},
	{"setns", func() error { return sys(unix.SYS_SETNS, ^uintptr(0), 0) }},
	{"bpf", func() error { return sys(unix.SYS_BPF, 9999, bad, 0) }},
	{"perf_event_open", func() error { return sys(unix.SYS_PERF_EVENT_OPEN, bad, 0, ^uintptr(0), ^uintptr(0), 0) }},
	{"userfaultfd", func() error { return sys(unix.SYS_USERFAULTFD, 0xffff) }},
	{"init_module", func() error { return sys(unix.SYS_INIT_MODULE, bad, 0, bad) }},
	{"finit_module", func() error { return sys(unix.SYS_FINIT_MODULE, ^uintptr(0), bad, 0xffff) }},
	{"delete_module", func() error { return sys(unix.SYS_DELETE_MODULE, bad, 0) }},
	{"acct", func() error { return sys(unix.SYS_ACCT, bad) }},
	{"swapon", func() error { return sys(unix.SYS_SWAPON, bad, 0) }},
	{"swapoff", func() error { return sys(unix.SYS_SWAPOFF, bad) }},
	{"reboot", func() error { return sys(unix.SYS_REBOOT, 0, 0, 0, 0) }}, // wrong magic: EINVAL
	{"settimeofday", func() error { return sys(unix.SYS_SETTIMEOFDAY, bad, 0) }},
	{"clock_settime", func() error { return sys(unix.SYS_CLOCK_SETTIME, 0, bad) }},
	{"clock_adjtime", func() error { return sys(unix.SYS_CLOCK_ADJTIME, 0, bad) }},
	{"ioperm", func() error { return sys(unix.SYS_IOPERM, 0, 0, 0) }}, // empty range: EINVAL
	{"iopl", func() error { return sys(unix.SYS_IOPL, 9) }},           // level > 3: EINVAL
	{"quotactl", func() error { return sys(unix.SYS_QUOTACTL, 0, bad, 0, 0) }},
	{"lookup_dcookie", func() error { return sys(unix.SYS_LOOKUP_DCOOKIE, 0, 0, 0) }},
	{"nfsservctl", func() error { return sys(unix.SYS_NFSSERVCTL, 0, 0, 0) }},
	{"uselib", func() error { return sys(unix.SYS_USELIB, bad) }},
	{"ustat", func() error { return sys(unix.SYS_USTAT, 0, bad) }},
	{"sysfs", func() error { return sys(unix.SYS_SYSFS, 9999) }},
	{"_sysctl", func() error { return sys(unix.SYS__SYSCTL, bad) }},
	{"create_module", func() error { return sys(unix.SYS_CREATE_MODULE, 0, 0) }},
	{"get_kernel_syms", func() error { return sys(unix.SYS_GET_KERNEL_SYMS, 0) }},
	{"query_module", func() error { return sys(unix.SYS_QUERY_MODULE, 0, 0, 0, 0, 0) }},
	{"clone3", func() error { return sys(unix.SYS_CLONE3, bad, 0) }}, // docker's profile: ENOSYS, so that libcs fall back to clone
	{"clone-newuser", func() error {
		// clone's flags are filtered: a new namespace is denied. Invalid
		// flags with it (CLONE_SIGHAND without CLONE_VM) make an allowed
		// call fail with EINVAL instead of forking.
		return sys(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_SIGHAND, 0, 0, 0, 0)
	}},
}

func sys(nr uintptr, args ...uintptr) error {
	var a [6]uintptr
	copy(a[:], args)
	_, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	if e != 0 {
		return e
	}
	return nil
}

// errName is an error's errno name ("EPERM"), "OK" for nil.
func errName(err error) string {
	if err == nil {
		return "OK"
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
		return "errno" + strconv.Itoa(int(e))
	}
	return strings.ReplaceAll(err.Error(), " ", "_")
}

// swap exchanges dir with a link to "/" in a loop (renameat2
// RENAME_EXCHANGE), so that dir is a folder half of the time and a link to
// the root the other half.
func swap(dir string) {
	link := dir + ".swap"
	// a file the host has too, so that a copy that follows the link on
	// the host finds something to read
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "etc", "os-release"), []byte("inside\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Remove(link)
	if err := os.Symlink("/", link); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("swapping")
	for {
		if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE); err != nil {
			fmt.Fprintln(os.Stderr, "renameat2:", err)
			os.Exit(1)
		}
		// thousands of swaps a second, far more than copies, without
		// taking a core from the tests running beside
		time.Sleep(20 * time.Microsecond)
	}
}
