//go:build !linux

package main

import "github.com/containerd/errdefs"

func lockDataRoot(string) (func(), error) { return nil, errdefs.ErrNotImplemented }

func writePidfile(string) error { return errdefs.ErrNotImplemented }
