#!/usr/bin/env bash
# Runs every native Go fuzz target of the repository for FUZZTIME each
# (default 30s), one after the other with FUZZPARALLEL workers (default 1:
# the machine is shared), and prints the execs per target. A crasher is
# written by go test to the package's testdata/fuzz/<Target>/, where the
# plain test run replays it: fix it and commit the file. With FUZZKEEP=N
# the N smallest inputs each target's corpus holds (what the fuzzer found
# new coverage with) are kept in testdata/fuzz too, as replayed seeds. Usage:
#   scripts/fuzz.sh [target-regexp]      (make fuzz FUZZTIME=30s FUZZ=Load)
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
parallel=${FUZZPARALLEL:-1}
keep=${FUZZKEEP:-0}
only=${1:-.}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
status=0
printf '%-28s %-32s %12s  %s\n' TARGET PACKAGE EXECS RESULT
while IFS=: read -r file target; do
	[[ $target =~ $only ]] || continue
	pkg=./$(dirname "$file")
	out=$log/$target.out
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" >"$out" 2>&1
	rc=$?
	execs=$(grep -o 'execs: [0-9]*' "$out" | tail -1 | cut -d' ' -f2)
	result=ok
	if [ $rc -ne 0 ]; then
		status=1
		result="FAIL: $(grep -m1 -o 'testdata/fuzz/[^ ]*' "$out" || tail -1 "$out")"
		sed 's/^/    /' "$out" | tail -30 >&2
	fi
	printf '%-28s %-32s %12s  %s\n' "$target" "$pkg" "${execs:-0}" "$result"
	corpus=$(go env GOCACHE)/fuzz/$(go list "$pkg")/$target
	if [ "$keep" -gt 0 ] && [ -d "$corpus" ]; then
		mkdir -p "$pkg/testdata/fuzz/$target"
		ls -Sr "$corpus" | head -n "$keep" | while read -r f; do cp -n "$corpus/$f" "$pkg/testdata/fuzz/$target/"; done
	fi
done < <(grep -rEo --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' cmd internal | sed 's/:func /:/' | sort -u)
exit $status
