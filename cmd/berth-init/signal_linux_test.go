package main

import "golang.org/x/sys/unix"

// sendSelf sends SIGUSR1 to the test process, as `docker kill -s USR1`
// would to the init.
func sendSelf() error { return unix.Kill(unix.Getpid(), unix.SIGUSR1) }
