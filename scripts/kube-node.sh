#!/bin/bash
# kube-node.sh runs a throwaway Kubernetes node on berthd (or, for the
# benchmark, on a private dockerd), isolated from the host, and removes it:
#
#	scripts/kube-node.sh up DIR [standalone|cluster]
#	scripts/kube-node.sh run DIR cmd...     run cmd inside the node's namespaces
#	scripts/kube-node.sh kubectl DIR args... kubectl as the cluster's admin
#	scripts/kube-node.sh pids DIR           the engine's and cri-dockerd's processes
#	scripts/kube-node.sh down DIR
#
# standalone is a kubelet alone, running the static pods in DIR/manifests;
# cluster adds etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, and registers the kubelet as a node.
#
# Isolation (so that nothing the kubelet does reaches the host):
#   - everything runs in its own network namespace (named after DIR), where
#     a veth (both ends inside) carries the node IP (10.123.0.2: non-loopback, which
#     the kubelet needs for `kubectl logs/exec`); the engine's bridge, its
#     firewall table and the kubelet's iptables chains live there too;
#   - everything runs in a private mount namespace (a slave of the host's),
#     in which /proc/sys/vm/overcommit_memory, kernel/panic and
#     kernel/panic_on_oops are covered by files holding the values the kubelet
#     wants, so that with protectKernelDefaults it neither writes the host's
#     sysctls nor refuses to start; the kubelet's own mounts (secrets,
#     projected tokens) are seen by the engine, which runs there too;
#   - cri-dockerd runs in its own PID namespace: every 5 minutes it sets the
#     oom_score_adj of every process named dockerd or containerd it can see;
#   - the kubelet's cgroups go under a private root (/<name> in every v1
#     hierarchy), which down removes.
#
# Environment: KUBE_NODE_ENGINE=berth|docker (berth), BERTH_BIN_DIR (the
# repository's bin/), BERTH_KUBE_CACHE (/var/tmp/berth-kube, see
# kube-build.sh), BERTH_CRIDOCKERD_CACHE (/tmp/cri-dockerd-cache),
# KUBE_NODE_CRI_DOCKERD (a cri-dockerd binary to use instead).
# Needs root, iproute2, util-linux (unshare, nsenter), openssl and curl.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: kube-node.sh up|run|kubectl|pids|down DIR ...}
DIR=${2:?usage: kube-node.sh $cmd DIR}
shift 2
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

KCACHE=${BERTH_KUBE_CACHE:-/var/tmp/berth-kube}
KBIN=$KCACHE/bin
NODE_IP=10.123.0.2
POD_BIP=10.124.0.1/24
TOKEN_FILE=$DIR/pki/token

log() { printf '%s kube-node: %s\n' "$(date -u +%T.%3N)" "$*" >&2; }
die() { log "$*"; exit 1; }

# The node's name: short (it names the netns, the cgroup root and
# /run/<name>), derived from DIR so every command finds the same one.
NAME=kn$(printf '%s' "$DIR" | md5sum | cut -c1-8)
RUN=/run/$NAME
NETNS=/run/netns/$NAME
MNTNS=$RUN/ns/mnt

# nx runs a command in the node's network and mount namespaces.
nx() { nsenter --net="$NETNS" --mount="$MNTNS" -- "$@"; }

# start NAME cmd... starts a daemon in the node, logging to DIR/logs/NAME.log.
# A simple command, not nx: a shell function in the background runs in a
# subshell whose pid ($!) is not the daemon's, and stop would kill only that
# subshell (the kubelet then kept recreating pods while down removed them).
# nsenter and setsid both exec, so $! is the daemon itself.
start() {
	local name=$1
	shift
	nsenter --net="$NETNS" --mount="$MNTNS" -- setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$DIR/pids/$name"
}

# waitfor WHAT SECONDS cmd... retries cmd until it succeeds.
waitfor() {
	local what=$1 deadline=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || die "timed out waiting for $what (logs: $DIR/logs)"
		sleep 0.2
	done
}

engine_env() {
	ENGINE=$(cat "$DIR/node.engine" 2>/dev/null || echo "${KUBE_NODE_ENGINE:-berth}")
	SOCK=$RUN/engine.sock
}

# cli runs the engine's own CLI against the node's engine.
cli() {
	if [ "$ENGINE" = berth ]; then
		"${BERTH_BIN_DIR:-$repo/bin}/berth" -H "unix://$SOCK" "$@"
	else
		DOCKER_CONFIG=$DIR/docker-config docker -H "unix://$SOCK" "$@"
	fi
}

kubectl_() { nx "$KBIN/kubectl" --kubeconfig "$DIR/pki/admin.kubeconfig" "$@"; }

v1_hierarchies() {
	local d
	for d in /sys/fs/cgroup/*/; do
		d=${d%/}
		[ -L "$d" ] && continue
		[ "$(basename "$d")" = unified ] && continue
		mountpoint -q "$d" && echo "$d"
	done
}

make_certs() {
	local p=$DIR/pki
	mkdir -p "$p"
	(
		cd "$p"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=kube-node-ca 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
		printf 'subjectAltName=IP:%s,IP:127.0.0.1,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:localhost\n' "$NODE_IP" >san.ext
		openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 2 -extfile san.ext 2>/dev/null
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
		head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >token
		printf '%s,admin,admin,system:masters\n' "$(cat token)" >tokens.csv
		cat >admin.kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster: {server: "https://$NODE_IP:6443", certificate-authority: $p/ca.crt}
users:
- name: admin
  user: {token: "$(cat token)"}
contexts:
- name: node
  context: {cluster: node, user: admin}
current-context: node
EOF
	)
}

up() {
	local mode=${1:-standalone} h crid bbox
	engine_env
	[ -e "$NETNS" ] && die "node $NAME is already up (down it first)"
	for b in kubelet; do [ -x "$KBIN/$b" ] || die "$KBIN/$b missing: run scripts/kube-build.sh"; done
	if [ "$mode" = cluster ]; then
		for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
			[ -x "$KBIN/$b" ] || die "$KBIN/$b missing: run scripts/kube-build.sh"
		done
	fi
	crid=${KUBE_NODE_CRI_DOCKERD:-${BERTH_CRIDOCKERD_CACHE:-/tmp/cri-dockerd-cache}/cri-dockerd}
	[ -x "$crid" ] || die "cri-dockerd missing at $crid"
	echo "$ENGINE" >"$DIR/node.engine"
	echo "$mode" >"$DIR/node.mode"
	# A node that fails to come up is taken down (its logs stay in DIR/logs).
	trap 'status=$?; [ $status = 0 ] || { log "up failed: taking the node down"; down; }' EXIT
	mkdir -p "$DIR/logs" "$DIR/pids" "$DIR/manifests" "$DIR/sys" "$RUN/ns"

	# Network namespace with a non-loopback node IP and a default route.
	ip netns add "$NAME"
	ip -n "$NAME" link set lo up
	ip -n "$NAME" link add node0 type veth peer name node0p
	ip -n "$NAME" addr add "$NODE_IP/24" dev node0
	ip -n "$NAME" link set node0p up
	ip -n "$NAME" link set node0 up
	ip -n "$NAME" route add default dev node0

	# A persistent private mount namespace, bound to $MNTNS.
	mount --bind "$RUN/ns" "$RUN/ns"
	mount --make-private "$RUN/ns"
	touch "$MNTNS"
	unshare --mount="$MNTNS" --propagation slave true
	printf '1\n' >"$DIR/sys/overcommit_memory"
	printf '10\n' >"$DIR/sys/panic"
	printf '1\n' >"$DIR/sys/panic_on_oops"
	nx mount --bind "$DIR/sys/overcommit_memory" /proc/sys/vm/overcommit_memory
	nx mount --bind "$DIR/sys/panic" /proc/sys/kernel/panic
	nx mount --bind "$DIR/sys/panic_on_oops" /proc/sys/kernel/panic_on_oops

	# The kubelet's cgroup root, in every v1 hierarchy.
	for h in $(v1_hierarchies); do
		mkdir -p "$h/$NAME"
		if [ -f "$h/cpuset.cpus" ]; then
			cat "$h/cpuset.cpus" >"$h/$NAME/cpuset.cpus"
			cat "$h/cpuset.mems" >"$h/$NAME/cpuset.mems"
		fi
	done

	# The engine.
	if [ "$ENGINE" = berth ]; then
		start engine "${BERTH_BIN_DIR:-$repo/bin}/berthd" -H "unix://$SOCK" \
			--data-root "$DIR/engine" --exec-root "$RUN/x" --pidfile "$RUN/berthd.pid" \
			--bridge kn0 --bip "$POD_BIP" --firewall-table "$NAME"
	else
		mkdir -p "$DIR/docker-config"
		start engine /usr/sbin/dockerd -H "unix://$SOCK" \
			--data-root "$DIR/engine" --exec-root "$RUN/x" --pidfile "$RUN/dockerd.pid" \
			--bip "$POD_BIP" --userland-proxy=false
	fi
	waitfor "$ENGINE" 60 cli version

	# Images: the pause image (cri-dockerd's default sandbox image, so that
	# nothing is pulled) and busybox.
	"$repo/scripts/pause-image.sh" >"$DIR/pause.tar"
	cli import --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' "$DIR/pause.tar" registry.k8s.io/pause:3.10 >/dev/null
	"$repo/scripts/busybox-image.sh" >"$DIR/busybox.tar"
	cli import --change 'CMD ["sh"]' "$DIR/busybox.tar" busybox:1.0 >/dev/null
	rm -f "$DIR/pause.tar" "$DIR/busybox.tar"

	# cri-dockerd, in its own PID namespace (see the top).
	start cri-dockerd unshare --pid --fork --kill-child --mount-proc --propagation slave \
		"$crid" --docker-endpoint "unix://$SOCK" \
		--container-runtime-endpoint "unix://$RUN/cri-dockerd.sock" \
		--cri-dockerd-root-directory "$DIR/cri-dockerd" \
		--network-plugin= --pod-infra-container-image registry.k8s.io/pause:3.10 \
		--streaming-bind-addr "$NODE_IP:10010"
	waitfor cri-dockerd 60 test -S "$RUN/cri-dockerd.sock"

	local kubeconfig=()
	if [ "$mode" = cluster ]; then
		make_certs
		start etcd "$KBIN/etcd" --data-dir "$DIR/etcd" \
			--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
			--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
			--initial-cluster default=http://127.0.0.1:2380 --name default --log-level warn
		start kube-apiserver "$KBIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
			--bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port 6443 \
			--tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
			--client-ca-file "$DIR/pki/ca.crt" --token-auth-file "$DIR/pki/tokens.csv" \
			--authorization-mode AlwaysAllow --service-cluster-ip-range 10.96.0.0/24 \
			--service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
			--service-account-issuer https://kubernetes.default.svc --enable-priority-and-fairness=false \
			--kubelet-preferred-address-types InternalIP \
			--feature-gates ExtendWebSocketsToKubelet=false
		waitfor kube-apiserver 120 kubectl_ get --raw /readyz
		start kube-controller-manager "$KBIN/kube-controller-manager" \
			--kubeconfig "$DIR/pki/admin.kubeconfig" --leader-elect=false --secure-port 0 \
			--service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt"
		start kube-scheduler "$KBIN/kube-scheduler" --kubeconfig "$DIR/pki/admin.kubeconfig" \
			--leader-elect=false --secure-port 0
		kubeconfig=(--kubeconfig "$DIR/pki/admin.kubeconfig")
	fi

	printf 'nameserver %s\n' "${POD_BIP%.1/24}.1" >"$DIR/resolv.conf"
	cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$NAME
cgroupsPerQOS: true
protectKernelDefaults: true
failSwapOn: false
staticPodPath: $DIR/manifests
fileCheckFrequency: 1s
syncFrequency: 10s
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
containerRuntimeEndpoint: unix://$RUN/cri-dockerd.sock
podLogsDir: $DIR/pod-logs
resolvConf: $DIR/resolv.conf
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
	start kubelet "$KBIN/kubelet" --config "$DIR/kubelet.yaml" --root-dir "$DIR/kubelet" \
		--cert-dir "$DIR/kubelet/pki" --hostname-override "$NAME" --node-ip "$NODE_IP" \
		"${kubeconfig[@]}" -v 2
	waitfor kubelet 120 nx curl -sf http://127.0.0.1:10248/healthz
	if [ "$mode" = cluster ]; then
		waitfor "node Ready" 180 kubectl_ wait --for=condition=Ready "node/$NAME" --timeout 1s
		waitfor "default service account" 60 kubectl_ get serviceaccount default
	fi
	log "node $NAME up ($mode on $ENGINE): node IP $NODE_IP, logs in $DIR/logs"
}

# stop NAME [seconds] stops the daemon started as NAME: SIGTERM, then SIGKILL.
stop() {
	local f=$DIR/pids/$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < ${2:-10} * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -KILL "$pid" 2>/dev/null; then
			log "$1 did not stop within ${2:-10} s of SIGTERM: killed"
		fi
	fi
	rm -f "$f"
}

down() {
	local h d pids ids
	engine_env
	# The kubelet first, so that it recreates nothing; then every container
	# the node's engine has, then the daemons.
	stop kubelet 10
	stop kube-scheduler
	stop kube-controller-manager
	# cri-dockerd runs under unshare --fork, which does not pass SIGTERM on:
	# its child gets it first (--kill-child then ends unshare).
	[ ! -f "$DIR/pids/cri-dockerd" ] || pkill -TERM -P "$(cat "$DIR/pids/cri-dockerd")" 2>/dev/null || true
	stop cri-dockerd
	if [ -f "$DIR/pids/engine" ] && [ -e "$NETNS" ]; then
		cli ps -a --no-trunc >"$DIR/logs/down-ps.log" 2>&1 || true
		ids=$(cli ps -aq 2>/dev/null || true)
		[ -z "$ids" ] || cli rm -f $ids >/dev/null 2>"$DIR/logs/down-rm.log" ||
			log "$ENGINE rm -f failed: $(tail -3 "$DIR/logs/down-rm.log")"
	fi
	stop kube-apiserver
	stop etcd
	stop engine 30
	# Anything left in the node's network namespace (shims, containerd).
	if [ -e "$NETNS" ]; then
		pids=$(ip netns pids "$NAME" 2>/dev/null || true)
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		sleep 0.2
	fi
	# Any container process still in the cgroup root (a container the
	# engine failed to remove: its own pid namespace and netns keep it out
	# of the kill above), then the cgroup root, deepest first (the kubelet's QoS and pod cgroups, and
	# containers' cgroups under them).
	for h in $(v1_hierarchies) /sys/fs/cgroup/unified; do
		[ -d "$h/$NAME" ] || continue
		pids=$(find "$h/$NAME" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
		if [ -n "$pids" ]; then
			log "processes left in $h/$NAME: $(echo $pids); containers before rm: $(cat "$DIR/logs/down-ps.log" 2>/dev/null)"
			kill -KILL $pids 2>/dev/null || true
			sleep 0.2
		fi
		find "$h/$NAME" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$h/$NAME" ] || log "cgroup $h/$NAME not removed"
	done
	if mountpoint -q "$RUN/ns" 2>/dev/null; then
		umount "$MNTNS" 2>/dev/null || true
		umount "$RUN/ns" || umount -l "$RUN/ns"
	fi
	[ ! -e "$NETNS" ] || ip netns del "$NAME"
	rm -rf "$RUN"
	log "node $NAME down"
}

case $cmd in
up) up "$@" ;;
down) down ;;
run) nx "$@" ;;
kubectl) kubectl_ "$@" ;;
pids)
	# The engine's processes (berthd and its shims; dockerd, its containerd
	# and their shims) and cri-dockerd: "pid name" a line. They all run in
	# the node's network namespace; the containers run in their pods' own.
	for p in $(ip netns pids "$NAME" 2>/dev/null); do
		n=$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)" 2>/dev/null) || continue
		case $n in
		berthd | berth-shim | dockerd | containerd | containerd-shim* | cri-dockerd*) echo "$p $n" ;;
		esac
	done
	;;
*) die "unknown command $cmd" ;;
esac
