package shim

import (
	"sync"
	"time"

	"github.com/berth-project/berth/internal/pagetrim"
)

// idleTrimDelay is how long a shim waits after its latest request before it
// trims its memory.
const idleTrimDelay = time.Second

// idleTrimmer drops the binary's pages (pagetrim.ReleaseBinary) once the
// shim has been idle for delay. The pages stay in the page cache, shared
// with every other shim; a wake-up (an attach, a signal, the exit) faults
// back, as minor faults, what it runs. The kernel maps whole large folios
// on a fault, so most of the text comes back with the idle goroutines'
// first run: the rodata and pclntab are what stays out. (A
// debug.FreeOSMemory there too was measured: it left ~0.2 MiB more
// anonymous memory per shim.) A nil idleTrimmer does nothing (a server
// outside a shim process).
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
		t.timer = time.AfterFunc(t.delay, pagetrim.ReleaseBinary)
		return
	}
	t.timer.Reset(t.delay)
}
