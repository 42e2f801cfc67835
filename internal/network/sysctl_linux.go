package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SetSysctls writes net.* sysctls (dotted names) into the network namespace
// at path, from the host's user namespace: for containers in a user
// namespace of their own, whose root does not own berth's network
// namespace and so may not write them itself.
func SetSysctls(path string, sysctls map[string]string) error {
	return InNetNS(path, func() error {
		for k, v := range sysctls {
			if !strings.HasPrefix(k, "net.") || strings.Contains(k, "..") {
				return fmt.Errorf("sysctl %s: not a network namespace sysctl", k)
			}
			p := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
			}
		}
		return nil
	})
}
