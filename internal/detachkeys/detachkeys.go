// Package detachkeys holds docker's default detach sequence, the one fact
// shared by the shim, which detaches an attach when the sequence is typed,
// and the CLI, which recognises that it was detached. It links nothing but
// the standard library: the shim links it.
package detachkeys

// Default is docker's detach sequence, ctrl-p ctrl-q, used when no
// --detach-keys are given (or, in the CLI, when they are invalid).
var Default = []byte{16, 17}
