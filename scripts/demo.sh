#!/usr/bin/env bash
# make demo: starts berthd on the default socket if it is not running,
# creates the busybox image if absent and runs a container.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-$PWD/bin}
SOCK=${SOCK:-/run/berth/berth.sock}
DATA_ROOT=${DATA_ROOT:-/var/lib/berth}
EXEC_ROOT=${EXEC_ROOT:-/run/berth}
HOST=unix://$SOCK
berth() { "$BIN/berth" -H "$HOST" "$@"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo starts berthd and runs containers: run it as root" >&2
	exit 1
fi

if berth version >/dev/null 2>&1; then
	echo "berthd is already running on $SOCK"
else
	log=/var/log/berth.log
	if ! touch "$log" 2>/dev/null; then log=/tmp/berth.log; fi
	echo "starting berthd on $SOCK (data root $DATA_ROOT, log $log)"
	setsid -f "$BIN/berthd" -H "$HOST" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" </dev/null >>"$log" 2>&1
	for _ in $(seq 1 150); do
		berth version >/dev/null 2>&1 && break
		sleep 0.2
	done
	if ! berth version >/dev/null 2>&1; then
		echo "berthd did not come up; last lines of $log:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
fi

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
	echo "creating the busybox image from busybox-static"
	scripts/busybox-image.sh | berth import - busybox:latest
fi

echo '$ berth run --rm busybox echo "Hello from berth"'
berth run --rm busybox echo "Hello from berth"
echo '$ printf "FROM busybox\nRUN echo built by berth > /hello\nCMD [\"cat\", \"/hello\"]\n" | berth build -t hello-build -'
printf 'FROM busybox\nRUN echo built by berth > /hello\nCMD ["cat", "/hello"]\n' | berth build -t hello-build -
echo '$ berth run --rm hello-build'
berth run --rm hello-build
# Compose: a web service and a client that fetches its page by service name.
compose_dir=$(mktemp -d)
trap 'rm -rf "$compose_dir"' EXIT
cat > "$compose_dir/compose.yaml" <<'EOF_COMPOSE'
services:
  web:
    image: busybox
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo 'Hello from a compose service' > /www/index.html && exec httpd -f -p 8080 -h /www"]
  client:
    image: busybox
    depends_on: [web]
    command: ["sh", "-c", "sleep 1; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web 8080 | tail -n 1"]
EOF_COMPOSE
echo '$ cat compose.yaml'
cat "$compose_dir/compose.yaml"
echo '$ berth compose -p berth-demo up --abort-on-container-exit --exit-code-from client'
berth compose --project-directory "$compose_dir" -p berth-demo up --abort-on-container-exit --exit-code-from client
echo '$ berth compose -p berth-demo down'
berth compose --project-directory "$compose_dir" -p berth-demo down
echo '$ berth ps -a'
berth ps -a
echo '$ berth images'
berth images
echo
echo "berthd keeps running. Try: $BIN/berth run -it --rm busybox sh"
echo "or: DOCKER_HOST=$HOST docker ps"
