package shim

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// ParseDetachKeys reads docker's --detach-keys syntax: a comma-separated list
// of single characters or ctrl-<key>, where key is a letter or one of
// @ [ \ ] ^ _ (for example "ctrl-p,ctrl-q"). Empty gives the default.
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return DefaultDetachKeys, nil
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		if len(k) == 1 {
			keys = append(keys, k[0])
			continue
		}
		key, ok := strings.CutPrefix(strings.ToLower(k), "ctrl-")
		if !ok || len(key) != 1 {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Unknown character: '%s'", k))
		}
		switch c := key[0]; {
		case c >= 'a' && c <= 'z':
			keys = append(keys, c-'a'+1)
		case c == '@':
			keys = append(keys, 0)
		case c >= '[' && c <= '_':
			keys = append(keys, c-'['+27)
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Unknown character: '%s'", k))
		}
	}
	return keys, nil
}
