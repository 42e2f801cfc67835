package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClaimHost(t *testing.T) {
	tag := strconv.FormatInt(time.Now().UnixNano(), 36) // names no other run uses
	rootA, rootB := t.TempDir(), t.TempDir()
	release, err := claimHost(rootA, "br"+tag, "tbl"+tag)
	if err != nil {
		t.Fatal(err)
	}
	pid := fmt.Sprintf("(pid %d)", os.Getpid())
	for _, tc := range []struct {
		name                    string
		execRoot, bridge, table string
		want                    string // "" is: the claim succeeds
	}{
		{"same exec root", rootA, "other" + tag, "other" + tag, "already using exec root " + rootA},
		{"same table", rootB, "other" + tag, "tbl" + tag, `already using nftables table "tbl` + tag + `"`},
		{"same bridge", rootB, "br" + tag, "other" + tag, `already using bridge "br` + tag + `"`},
		{"nothing shared", rootB, "other" + tag, "other" + tag, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := claimHost(tc.execRoot, tc.bridge, tc.table)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				r()
				return
			}
			if err == nil {
				r()
				t.Fatal("a second daemon sharing it was allowed")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), pid) {
				t.Errorf("error %q, want it to name %q and %s", err, tc.want, pid)
			}
		})
	}
	release()
	r, err := claimHost(rootA, "br"+tag, "tbl"+tag)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r()
}
