#!/usr/bin/env bash
# Runs unit tests as an ordinary user (nobody), to prove that the logic above
# the kernel is testable without root. Prints the top-level tests that passed
# and skipped per package. Usage: scripts/unit-unprivileged.sh [packages...]
# (default ./internal/...). Must be started as root, which it drops.
# With BERTH_MAX_SKIPS=N it also fails when more than N top-level tests skip:
# the logic above the kernel must stay testable without root.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./internal/...)

home=${BERTH_UNPRIV_HOME:-/var/tmp/berth-unprivileged}
mkdir -p "$home"
# the caches in it may have been filled by root (make test shares them)
chown -R nobody:nogroup "$home"
gobin=$(command -v go)
run() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
		env HOME="$home" GOMODCACHE="$home/mod" GOCACHE="$home/cache" GOTOOLCHAIN=local \
		GOPROXY="$(go env GOPROXY)" GOFLAGS="-mod=readonly -buildvcs=false" PATH="$(dirname "$gobin"):/usr/sbin:/usr/bin:/sbin:/bin" "$@"
}
run go mod download
out=$home/unit.log
status=0
run go test -count=1 -v "${pkgs[@]}" >"$out" 2>&1 || status=$?
grep -E '^(ok|FAIL|---|panic)' "$out" | grep -v -e '^--- PASS' -e '^--- SKIP' || true
echo "top-level tests passed: $(grep -c '^--- PASS' "$out"), skipped: $(grep -c '^--- SKIP' "$out")"
awk '/^=== RUN/ {reason=""} /^    .*_test.go:[0-9]+:/ {reason=$0} /^--- SKIP/ {print "  " $3 ":" reason}' "$out" | sed 's/  */ /g'
skipped=$(grep -c '^--- SKIP' "$out" || true)
if [ -n "${BERTH_MAX_SKIPS:-}" ] && [ "$skipped" -gt "$BERTH_MAX_SKIPS" ]; then
	echo "$skipped top-level tests skip without root; at most $BERTH_MAX_SKIPS may" >&2
	status=1
fi
exit $status
