#!/usr/bin/env bash
# Build a local stand-in for the official golang:<ver>-bookworm image, the base
# of ci/Dockerfile, on a machine that cannot pull from Docker Hub.
#
# Why it exists: ci/Dockerfile starts `FROM golang:${GO_VERSION}-bookworm`. On
# GitHub's runners that image is pulled from Docker Hub. Our development
# machines reach Debian's package mirror and the Go module proxy but not Docker
# Hub, so without this script the image cannot be built (let alone run) there.
# This script makes an image of the same name and the same shape from what can
# be reached:
#   1. Debian bookworm by debootstrap from Debian's mirror, imported as the
#      image libgearman-go/bookworm-base (built once, reused for every version);
#   2. a Go toolchain in /usr/local/go, with the official image's environment:
#      GOPATH=/go, PATH=/go/bin:/usr/local/go/bin:<Debian's PATH>,
#      GOTOOLCHAIN=local, GOLANG_VERSION, WORKDIR /go.
# Like the official image (buildpack-deps:bookworm-scm plus gcc/g++/libc6-dev/
# make/pkg-config), the base has ca-certificates, curl, git, gcc, g++, make and
# pkg-config; scripts/setup.sh installs the rest, as it does on GitHub. It
# also trusts the host's local CA certificates (/usr/local/share/ca-certificates),
# if any, so that HTTPS from the container works wherever it works on the host.
# The image carries the label libgearman-go.stand-in=ci/local-base.sh.
#
# Usage, as root, with a running docker daemon:
#
#   bash ci/local-base.sh [GO_VERSION]        (or GO_VERSION=... bash ci/local-base.sh)
#
# GO_VERSION is major.minor (1.26) or a full release (1.26.8); the default is
# the host Go's major.minor. The toolchain comes from:
#   - the host's Go (go env GOROOT) when its version matches GO_VERSION;
#   - otherwise the Go module proxy's toolchain module
#     (golang.org/toolchain@v0.0.1-go<full>.linux-amd64, fetched by running
#     `GOTOOLCHAIN=go<full> go env GOROOT`), which needs a full GO_VERSION and
#     a Go release that the proxy serves to this machine.
# Tags: golang:<major.minor>-bookworm and golang:<full>-bookworm.
#
# Idempotent: it does nothing if golang:<GO_VERSION>-bookworm already exists
# (FORCE=1 rebuilds the Go layer; FORCE=2 the Debian base as well). It removes
# its temporary directories on exit, whether it succeeds or not.
# Environment: MIRROR (default http://deb.debian.org/debian), TMPDIR.
#
# Then, from the repository root, the committed tree (git archive leaves out
# uncommitted edits; --network host because this machine's daemon runs with
# --bridge=none; see README.md, "CI and the Docker image"):
#
#   git archive HEAD | docker build --network host -f ci/Dockerfile --build-arg GO_VERSION=1.26 -t libgearman-go-ci -
#   docker run --rm --network host libgearman-go-ci
set -euo pipefail

BASE_IMAGE=libgearman-go/bookworm-base
LABEL=libgearman-go.stand-in
MIRROR=${MIRROR:-http://deb.debian.org/debian}
FORCE=${FORCE:-0}
# What the official golang:*-bookworm image has beyond Debian's minimal base.
INCLUDE=ca-certificates,curl,wget,gnupg,netbase,procps,git,openssh-client,gcc,g++,libc6-dev,make,pkg-config,xz-utils,unzip

say() { printf 'local-base: %s\n' "$*"; }
die() {
	printf 'local-base: error: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and docker need it)"
command -v docker >/dev/null 2>&1 || die "docker not found"
docker info >/dev/null 2>&1 || die "the docker daemon is not running (see README.md, 'CI and the Docker image')"
command -v go >/dev/null 2>&1 || die "go not found on PATH: it names the toolchain to copy or fetch"

HOST_GOVERSION=$(go env GOVERSION) # go1.26.8
HOST_GOROOT=$(go env GOROOT)
GO_VERSION=${1:-${GO_VERSION:-$(sed -n 's/^go\([0-9]*\.[0-9]*\).*/\1/p' <<<"$HOST_GOVERSION")}}
[[ $GO_VERSION =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || die "GO_VERSION must look like 1.26 or 1.26.8, not '$GO_VERSION'"
MINOR=$(cut -d. -f1,2 <<<"$GO_VERSION")
TAG="golang:$GO_VERSION-bookworm"

# --- already there? -------------------------------------------------------------
if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
	what=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$TAG" 2>/dev/null || true)
	case "$what" in
	"" | "<no value>") what="not built by this script" ;;
	*) what="a stand-in built by $what" ;;
	esac
	say "$TAG exists already ($what); FORCE=1 rebuilds it"
	exit 0
fi

# --- temporary directories, removed on exit -------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/local-base.XXXXXX")
cleanup() {
	# debootstrap mounts /proc and /sys inside the rootfs while it installs; if
	# it stopped half-way they may still be mounted: unmount before removing.
	local m
	awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# --- the Go toolchain -----------------------------------------------------------
use_host=0
if [ "$HOST_GOVERSION" = "go$GO_VERSION" ]; then
	use_host=1
elif [ "$GO_VERSION" = "$MINOR" ] && [[ $HOST_GOVERSION == "go$MINOR" || $HOST_GOVERSION == "go$MINOR."* ]]; then
	use_host=1
fi
if [ "$use_host" = 1 ]; then
	GOROOT_SRC=$HOST_GOROOT
	say "Go: the host's $HOST_GOVERSION ($GOROOT_SRC)"
else
	[[ $GO_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		die "the host has $HOST_GOVERSION, not Go $GO_VERSION; to fetch a toolchain from the Go module proxy give the full release (e.g. ${MINOR}.0)"
	say "Go: fetching go$GO_VERSION through the Go module proxy (golang.org/toolchain)"
	GOROOT_SRC=$(cd "$WORK" && GOFLAGS='' GOTOOLCHAIN="go$GO_VERSION" go env GOROOT) ||
		die "the Go module proxy did not give go$GO_VERSION (GOPROXY=$(go env GOPROXY))"
fi
[ -x "$GOROOT_SRC/bin/go" ] || die "no Go toolchain in $GOROOT_SRC"
FULL=$("$GOROOT_SRC/bin/go" env GOVERSION | sed 's/^go//')
[[ $FULL == "$MINOR" || $FULL == "$MINOR."* ]] || die "$GOROOT_SRC holds go$FULL, not Go $GO_VERSION"

# --- the Debian base (debootstrap), once ----------------------------------------
if [ "$FORCE" = 2 ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "installing debootstrap with apt-get"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	fi
	rootfs="$WORK/rootfs"
	say "debootstrap bookworm from $MIRROR (a few minutes)"
	debootstrap --variant=minbase --include="$INCLUDE" bookworm "$rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
		tail -n 30 "$WORK/debootstrap.log" >&2
		die "debootstrap failed"
	}
	# The official image's sources: bookworm, its updates and its security suite.
	rm -f "$rootfs/etc/apt/sources.list"
	cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
	: >"$rootfs/etc/resolv.conf" # docker provides its own
	say "importing the rootfs as $BASE_IMAGE"
	tar -C "$rootfs" --numeric-owner -c . | docker import \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c 'CMD ["bash"]' \
		-c "LABEL $LABEL=ci/local-base.sh" \
		-m "debootstrap --variant=minbase bookworm (ci/local-base.sh)" - "$BASE_IMAGE" >/dev/null
	rm -rf --one-file-system "$rootfs"
else
	say "reusing $BASE_IMAGE (FORCE=2 rebuilds it)"
fi

# --- the golang image: the base plus /usr/local/go ------------------------------
ctx="$WORK/context"
mkdir -p "$ctx"
say "copying go$FULL into the build context"
cp -a "$GOROOT_SRC" "$ctx/go"
chmod -R u+w "$ctx/go" # the module cache keeps toolchains read-only
# The host's local CA certificates (Debian's place for them), so that the
# container trusts what the host trusts: where HTTPS goes through an
# inspecting proxy, `go install` and `go mod download` in ci/Dockerfile fail
# with "x509: certificate signed by unknown authority" without them.
mkdir -p "$ctx/local-ca"
ncas=0
for crt in /usr/local/share/ca-certificates/*.crt; do
	[ -f "$crt" ] || continue
	cp "$crt" "$ctx/local-ca/"
	ncas=$((ncas + 1))
done
say "adding the host's $ncas local CA certificate(s) from /usr/local/share/ca-certificates"
cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_IMAGE
ENV GOLANG_VERSION=$FULL \\
    GOTOOLCHAIN=local \\
    GOPATH=/go \\
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY local-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
COPY go /usr/local/go
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go
LABEL $LABEL=ci/local-base.sh
EOF
say "building $TAG"
docker build -q -t "golang:$MINOR-bookworm" -t "golang:$FULL-bookworm" "$ctx" >/dev/null
say "done: golang:$MINOR-bookworm and golang:$FULL-bookworm ($(docker run --rm "golang:$MINOR-bookworm" go version))"
