package oci

import "testing"

// TestNoNewPrivilegesDefault is dockerd's --no-new-privileges: the
// daemon's default holds unless a container's option says otherwise.
func TestNoNewPrivilegesDefault(t *testing.T) {
	for _, tc := range []struct {
		opts   []string
		daemon bool
		want   bool
	}{
		{nil, false, false},
		{nil, true, true},
		{[]string{"no-new-privileges"}, false, true},
		{[]string{"no-new-privileges=true"}, false, true},
		{[]string{"no-new-privileges=false"}, true, false},
		{[]string{"no-new-privileges:false"}, true, false},
		{[]string{"seccomp=unconfined"}, true, true},
	} {
		so, err := parseSecurityOpts(tc.opts, tc.daemon)
		if err != nil || so.noNewPrivileges != tc.want {
			t.Errorf("%v with the daemon's default %v: no-new-privileges %v, %v; want %v", tc.opts, tc.daemon, so.noNewPrivileges, err, tc.want)
		}
	}
}
