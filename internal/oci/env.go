package oci

import (
	"strings"
)

// Env returns the process environment docker gives a container: PATH,
// HOSTNAME and, with a terminal, TERM=xterm, each replaced in place by the
// container's own value, followed by the container's other variables. A
// container entry without "=" unsets the variable.
func Env(hostname string, terminal bool, env []string) []string {
	out := []string{"PATH=" + DefaultPath, "HOSTNAME=" + hostname}
	if terminal {
		out = append(out, "TERM=xterm")
	}
	return replaceOrAppendEnv(out, env)
}

// replaceOrAppendEnv overrides defaults with overrides, key by key.
func replaceOrAppendEnv(defaults, overrides []string) []string {
	index := make(map[string]int, len(defaults))
	for i, e := range defaults {
		k, _, _ := strings.Cut(e, "=")
		index[k] = i
	}
	removed := map[int]bool{}
	for _, e := range overrides {
		k, _, hasValue := strings.Cut(e, "=")
		i, exists := index[k]
		switch {
		case !hasValue:
			if exists {
				removed[i] = true
			}
		case exists:
			defaults[i] = e
			delete(removed, i)
		default:
			index[k] = len(defaults)
			defaults = append(defaults, e)
		}
	}
	if len(removed) == 0 {
		return defaults
	}
	out := defaults[:0]
	for i, e := range defaults {
		if !removed[i] {
			out = append(out, e)
		}
	}
	return out
}
