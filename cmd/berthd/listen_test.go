package main

import (
	"os/user"
	"testing"
)

func TestSocketGID(t *testing.T) {
	for _, tc := range []struct {
		group   string
		want    int
		wantErr bool
	}{
		{"", 0, false},
		{"root", 0, false},
		{"4242", 4242, false}, // a number need not name a group
		{"berth-no-such-group-x", 0, true},
	} {
		got, err := socketGID(tc.group)
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("socketGID(%q) = %d, %v; want %d, error %v", tc.group, got, err, tc.want, tc.wantErr)
		}
	}
	// the default group missing only costs the group access
	if _, err := user.LookupGroup(defaultSocketGroup); err != nil {
		if gid, err := socketGID(defaultSocketGroup); err != nil || gid != 0 {
			t.Errorf("socketGID(%q) without the group = %d, %v; want 0, nil", defaultSocketGroup, gid, err)
		}
	}
}
