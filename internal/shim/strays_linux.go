package shim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runtime"
)

// strayEvery is how often the shim looks for the runtime's stray children,
// for strayWindow after each runtime invocation.
const (
	strayEvery  = 500 * time.Millisecond
	strayWindow = 5 * time.Second
)

// reapStrays reaps, for the shim's life, the runtime's intermediate
// processes that end up its children because it is a subreaper: every
// `runc exec` leaves a "runc:[1:CHILD]" behind, and an exec that fails
// before its command runs a "runc:[2:INIT]". Nobody else waits for them:
// left as zombies they pile up (one per health probe), and one that lived
// in the container's pid namespace keeps the container's pid 1 from ever
// finishing its exit. The shim's own waits (the container, the exec'd
// commands, the runtime's invocations) are for other processes: only
// zombies named "runc:[" are reaped here, and crun's ("crun", the name of
// its invocations too) that are not an invocation still to be waited for.
//
// Strays come only from the runtime's invocations, so it looks for them
// during strayWindow after each one (kicked through ranRuntime): an idle
// shim is never woken (a thousand idle shims polling twice a second are
// 2,000 wake-ups a second).
func reapStrays(kick <-chan struct{}) {
	for range kick {
		t := time.NewTicker(strayEvery)
		until := time.Now().Add(strayWindow)
		for time.Now().Before(until) {
			select {
			case <-t.C:
				reapStrayZombies()
			case <-kick:
				until = time.Now().Add(strayWindow)
			}
		}
		t.Stop()
	}
}

func reapStrayZombies() {
	runtime.Invoked(func(invoked func(pid int) bool) {
		for _, pid := range strayZombies() {
			if invoked(pid) {
				continue
			}
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	})
}

// ranRuntime tells reapStrays that the runtime ran (or runs): strays may follow.
func (s *server) ranRuntime() {
	select {
	case s.strays <- struct{}{}:
	default: // a kick is pending already
	}
}

// strayZombies lists the shim's children that are runtime zombies.
func strayZombies() []int {
	lists, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []int
	for _, l := range lists {
		data, _ := os.ReadFile(l)
		for _, f := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(f)
			if err == nil && isRuntimeZombie(pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// isRuntimeZombie reports whether pid is a zombie whose name is one of the
// runtime's own ("runc:[1:CHILD]", "runc:[2:INIT]"..., crun's "crun").
func isRuntimeZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || len(s) < end+3 {
		return false
	}
	name := s[open+1 : end]
	return (strings.HasPrefix(name, "runc:[") || name == "crun") && s[end+2] == 'Z'
}
