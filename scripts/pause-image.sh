#!/usr/bin/env bash
# Writes to stdout a tar of a pod sandbox ("pause") root filesystem: /pause,
# a static build of internal/testutil/pause (Kubernetes' pause.c in Go).
# Import it as Kubernetes' pause image with (make pause-image does):
#   scripts/pause-image.sh | berth import --change 'ENTRYPOINT ["/pause"]' \
#     --change 'USER 65535:65535' - registry.k8s.io/pause:3.10
# (internal/testutil builds the same image in Go for the tests.)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -t 1 ]; then
	echo "pause-image.sh: refusing to write a tar to a terminal; pipe it to berth import" >&2
	exit 1
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
CGO_ENABLED=0 ${GO:-go} build -trimpath -ldflags "-s -w" -o "$rootfs/pause" ./internal/testutil/pause
tar -C "$rootfs" --owner=0 --group=0 -cf - pause
