package shim

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// trimImage drops the shim's own read-only file pages (its text and
// rodata, pclntab included) from its page tables once start-up is over.
//
// Start-up touches most of the binary (package inits, flag parsing, JSON,
// the runtime's invocation), and the kernel's fault-around maps the cached
// pages around each fault, so an idle shim would keep the whole ~2.9 MiB
// image resident although it runs a few functions while it waits. The
// pages stay in the page cache, shared with every other shim: the next
// wake-up (an attach, a signal, the exit) faults back in, as minor faults,
// only what it runs (the kernel maps whole large folios, so the text part
// mostly comes back: the rodata and pclntab are what stays out). Only private read-only mappings of the executable are
// touched: MADV_DONTNEED on them cannot lose data (no page is written), which
// would not hold for the writable data segment.
func trimImage() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, m := range readOnlyImageMappings(string(maps), exe) {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(m[0]), uintptr(m[1]-m[0]), unix.MADV_DONTNEED)
	}
}

// idleTrimDelay is how long a shim waits after its latest request before it
// trims its memory.
const idleTrimDelay = time.Second

// idleTrimmer drops the binary's pages (trimImage) once the shim has been
// idle for delay. (A debug.FreeOSMemory there too was measured: it left
// ~0.2 MiB more anonymous memory per shim.) A nil idleTrimmer does nothing
// (a server outside a shim process).
type idleTrimmer struct {
	delay time.Duration
	mu    sync.Mutex
	timer *time.Timer
}

// settle (re)starts the wait: call it when a request ends.
func (t *idleTrimmer) settle() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer == nil {
		t.timer = time.AfterFunc(t.delay, trimImage)
		return
	}
	t.timer.Reset(t.delay)
}
