#!/bin/bash
# kube-build.sh builds the Kubernetes binaries that `make test-kube` and
# bench/kube drive berthd with, from the Go module proxy, into a cache
# outside the repository (they total ~600 MB and are never committed):
#
#	scripts/kube-build.sh [component...]
#
# Components: kubelet kube-apiserver kube-controller-manager kube-scheduler
# kubectl etcd (the default is all of them), and on request only
# cri-dockerd-oom0 (cri-dockerd v0.4.3 with its hard-coded sandbox
# oom_score_adj -998 patched to 0, for the benchmark's dockerd, which fails
# every sandbox on a host without CAP_SYS_RESOURCE, where berth raises the
# score). Each lands in
# $BERTH_KUBE_CACHE/bin/<component> (default /var/tmp/berth-kube) and is
# built once: a component already in the cache is not rebuilt.
#
# The recipe is the one in the research write-up (kubernetes-node.md §1.3):
# `go install` refuses k8s.io/kubernetes and etcd because their go.mod
# replaces modules with local folders, and the k8s module zip lacks those
# folders (staging/src). So the module source is copied, each
# `k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X
# v0.<minor>.<patch>` (the staging modules are published), vendor/ and
# go.work go, and the build uses -mod=mod. etcd's server module has its
# sibling modules replaced by ../X: those replaces are dropped, its require
# lines already name the same release.
#
# Cold, this takes ~22 min on two idle cores; run it niced (`nice -n 15`)
# in the background. Concurrent runs serialize on a lock in the cache.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
CRI_DOCKERD_VERSION=${CRI_DOCKERD_VERSION:-v0.4.3}
CACHE=${BERTH_KUBE_CACHE:-/var/tmp/berth-kube}
GO=${GO:-go}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0

all=(kubelet kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
want=("$@")
[ ${#want[@]} -gt 0 ] || want=("${all[@]}")

mkdir -p "$CACHE/bin" "$CACHE/src"
exec 9>"$CACHE/.lock"
flock 9

log() { printf '%s kube-build: %s\n' "$(date -u +%T)" "$*" >&2; }

# modsrc M V DEST copies module M@V's source out of the module cache into
# DEST (writable), once.
modsrc() {
	local dest=$3 dir
	[ -f "$dest/.copied" ] && return 0
	dir=$($GO mod download -json "$1@$2" | jq -r .Dir)
	[ -d "$dir" ] || { log "cannot download $1@$2"; return 1; }
	rm -rf "$dest"
	cp -r "$dir" "$dest"
	chmod -R u+w "$dest"
	touch "$dest/.copied"
}

k8s_src() {
	local src=$CACHE/src/kubernetes-$K8S_VERSION staging=v0.${K8S_VERSION#v1.}
	modsrc k8s.io/kubernetes "$K8S_VERSION" "$src" || return 1
	if [ ! -f "$src/.prepared" ]; then
		rm -rf "$src/go.work" "$src/go.work.sum" "$src/vendor"
		sed -i -E "s#=> \./staging/src/(k8s\.io/[A-Za-z0-9._-]+)\$#=> \1 $staging#" "$src/go.mod"
		$GO -C "$src" mod edit -dropreplace k8s.io/sample-cli-plugin -dropreplace k8s.io/sample-controller
		if grep -q '=> \./' "$src/go.mod"; then
			log "unexpected local replace left in $src/go.mod"; return 1
		fi
		touch "$src/.prepared"
	fi
	echo "$src"
}

etcd_src() {
	local src=$CACHE/src/etcd-$ETCD_VERSION r
	modsrc go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$src" || return 1
	if [ ! -f "$src/.prepared" ]; then
		for r in $($GO -C "$src" mod edit -json | jq -r '.Replace[]? | select(.New.Path | startswith(".")) | .Old.Path'); do
			$GO -C "$src" mod edit -dropreplace "$r"
		done
		touch "$src/.prepared"
	fi
	echo "$src"
}

k8s_ldflags() {
	local v=$K8S_VERSION minor=${K8S_VERSION#v1.} f=""
	minor=${minor%%.*}
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		f+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
		f+=" -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	echo "-s -w$f"
}

# cri_dockerd_oom0 builds cri-dockerd with defaultSandboxOOMAdj = 0.
cri_dockerd_oom0() {
	local src=$CACHE/src/cri-dockerd-$CRI_DOCKERD_VERSION-oom0 v=${CRI_DOCKERD_VERSION#v}
	modsrc github.com/Mirantis/cri-dockerd "$CRI_DOCKERD_VERSION" "$src" || return 1
	sed -i 's/defaultSandboxOOMAdj int = -998/defaultSandboxOOMAdj int = 0/' "$src/core/sandbox_helpers.go"
	grep -q 'defaultSandboxOOMAdj int = 0' "$src/core/sandbox_helpers.go" || { log "cri-dockerd patch failed"; return 1; }
	$GO -C "$src" build -mod=mod -trimpath \
		-ldflags "-s -w -X github.com/Mirantis/cri-dockerd/cmd/version.Version=$v-oom0" \
		-o "$CACHE/bin/.cri-dockerd-oom0.tmp" . &&
		mv "$CACHE/bin/.cri-dockerd-oom0.tmp" "$CACHE/bin/cri-dockerd-oom0"
}

k8s=()
extra=()
etcd=0
for c in "${want[@]}"; do
	case $c in
	etcd) [ -x "$CACHE/bin/etcd" ] || etcd=1 ;;
	kubelet | kube-apiserver | kube-controller-manager | kube-scheduler | kubectl)
		[ -x "$CACHE/bin/$c" ] || k8s+=("$c") ;;
	cri-dockerd-oom0) [ -x "$CACHE/bin/$c" ] || extra+=("$c") ;;
	*) log "unknown component $c"; exit 2 ;;
	esac
done

status=0
if [ ${#k8s[@]} -gt 0 ]; then
	src=$(k8s_src)
	ldflags=$(k8s_ldflags)
	# One binary at a time, the kubelet first: T1 needs only it, and the
	# later ones reuse the build cache the first filled.
	for c in "${k8s[@]}"; do
		start=$SECONDS
		log "building $c $K8S_VERSION"
		if $GO -C "$src" build -mod=mod -trimpath -ldflags "$ldflags" -o "$CACHE/bin/.$c.tmp" "./cmd/$c"; then
			mv "$CACHE/bin/.$c.tmp" "$CACHE/bin/$c"
			log "built $c in $((SECONDS - start)) s"
		else
			log "building $c failed"
			status=1
		fi
	done
fi
if [ $etcd = 1 ]; then
	start=$SECONDS
	log "building etcd $ETCD_VERSION"
	src=$(etcd_src)
	if $GO -C "$src" build -mod=mod -trimpath \
		-ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}" \
		-o "$CACHE/bin/.etcd.tmp" .; then
		mv "$CACHE/bin/.etcd.tmp" "$CACHE/bin/etcd"
		log "built etcd in $((SECONDS - start)) s"
	else
		log "building etcd failed"
		status=1
	fi
fi
for c in "${extra[@]}"; do
	start=$SECONDS
	log "building $c"
	if ${c//-/_}; then
		log "built $c in $((SECONDS - start)) s"
	else
		log "building $c failed"
		status=1
	fi
done
exit $status
