#!/usr/bin/env bash
# Writes to stdout a tar of a minimal busybox root filesystem made from
# Debian's busybox-static: /bin/busybox, a symlink in /bin for each applet of
# `busybox --list`, /etc/passwd and /etc/group (root, nobody), /tmp (1777),
# /root and /home. Import it with: scripts/busybox-image.sh | berth import - busybox:latest
# (internal/testutil builds the same tree in Go for the tests.)
set -euo pipefail

busybox=""
for p in /bin/busybox /usr/bin/busybox; do
	if [ -f "$p" ]; then busybox=$p; break; fi
done
if [ -z "$busybox" ]; then
	echo "busybox-image.sh: busybox not found: apt-get install -y busybox-static" >&2
	exit 1
fi
if [ -t 1 ]; then
	echo "busybox-image.sh: refusing to write a tar to a terminal; pipe it to 'berth import - busybox:latest'" >&2
	exit 1
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,dev,etc,home,proc,root,sys,tmp,usr/bin,var}
chmod 0755 "$rootfs"
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"
chmod 0555 "$rootfs/proc" "$rootfs/sys"
install -m 0755 "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] && continue
	ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n' >"$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"

tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - .
