//go:build !linux

package main

// releaseStartupPages is a Linux optimisation.
func releaseStartupPages() {}
