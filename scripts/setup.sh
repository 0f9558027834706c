#!/usr/bin/env bash
# Install what the project needs and is missing; do nothing (and print nothing)
# when everything is there. Safe to run any number of times.
#
#   Debian/Ubuntu packages: libgearman-dev (headers + gearmand.pc), gearman-job-server
#   (gearmand, in /usr/sbin), pkg-config, gcc,
#   libc6-dev, make, ca-certificates, php-cli and php-gearman (cross-language tests);
#   for -tags gearman_static: uuid-dev (libuuid.a) and g++ (-lstdc++).
#   Go tool: staticcheck, pinned per Go release (see staticcheck_version below).
#
# As root it runs `apt-get update` (once, only if a package is missing) and
# `apt-get install`. As another user it prints the exact command to run as root
# and exits 1. staticcheck needs no root: `go install` puts it in $(go env GOPATH)/bin.
set -euo pipefail

PACKAGES=(
	libgearman-dev
	gearman-job-server
	pkg-config
	gcc
	libc6-dev
	make
	ca-certificates
	php-cli
	php-gearman
	uuid-dev
	g++
)

say() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

# --- Go -----------------------------------------------------------------------
command -v go >/dev/null 2>&1 ||
	die "go not found on PATH; install Go 1.24 or newer (https://go.dev/dl/) and retry"
GOVERSION=$(go env GOVERSION) # go1.26.8, go1.25rc1, devel go1.27-abcdef ...
GOMINOR=$(printf '%s\n' "$GOVERSION" | sed -n 's/.*go1\.\([0-9][0-9]*\).*/\1/p')
[ -n "$GOMINOR" ] || die "cannot parse the Go version '$GOVERSION'"
[ "$GOMINOR" -ge 24 ] || die "Go 1.24 or newer is required, found $GOVERSION"

# staticcheck supports the two newest Go releases and must itself be built with
# a Go at least as new as the code it checks, so the pin follows the Go release.
#   2025.1.1 = v0.6.1 (Go 1.24, 1.25; builds with Go >= 1.23)
#   2026.1   = v0.7.0 (Go 1.25, 1.26; builds with Go >= 1.25)
#   2026.2.2 = v0.8.2 (Go 1.26, 1.27; builds with Go >= 1.26)
staticcheck_version() {
	if [ "$GOMINOR" -le 24 ]; then
		echo v0.6.1
	elif [ "$GOMINOR" -eq 25 ]; then
		echo v0.7.0
	else
		echo v0.8.2
	fi
}
STATICCHECK_VERSION=${STATICCHECK_VERSION:-$(staticcheck_version)}

# --- Debian packages ------------------------------------------------------------
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
	# One dpkg-query for all packages; unknown packages print nothing (stderr dropped).
	installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
	for p in "${PACKAGES[@]}"; do
		grep -q "^$p install ok installed\$" <<<"$installed" || missing+=("$p")
	done
else
	die "not a Debian/Ubuntu system (no dpkg-query); install the equivalents of: ${PACKAGES[*]}"
fi

need_root=0
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		say "installing with apt-get: ${missing[*]}"
		apt-get update -qq
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
			die "apt-get install failed (on Ubuntu, php-gearman and the gearman packages are in 'universe': add-apt-repository universe)"
		fi
		for p in "${missing[@]}"; do
			say "installed $p ($(dpkg-query -W -f='${Version}' "$p"))"
		done
	else
		need_root=1
	fi
fi

# --- staticcheck ----------------------------------------------------------------
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
sc=""
if [ -x "$gobin/staticcheck" ]; then
	sc="$gobin/staticcheck"
elif command -v staticcheck >/dev/null 2>&1; then
	sc=$(command -v staticcheck)
fi
sc_ok=0
failed=0
if [ -n "$sc" ]; then
	# Right module version, and built by this Go release (a staticcheck built by
	# an older Go cannot load packages that need a newer one).
	sc_info=$(go version -m "$sc" 2>/dev/null || true)
	sc_mod=$(awk '$1 == "mod" && $2 == "honnef.co/go/tools" { print $3 }' <<<"$sc_info")
	sc_go=$(head -n1 <<<"$sc_info" | sed -n 's/.*go1\.\([0-9][0-9]*\).*/\1/p')
	if [ "$sc_mod" = "$STATICCHECK_VERSION" ] && [ "$sc_go" = "$GOMINOR" ]; then
		sc_ok=1
	fi
fi
if [ "$sc_ok" -eq 0 ]; then
	if [ "$need_root" -eq 1 ] && [[ " ${missing[*]} " == *" ca-certificates "* ]]; then
		: # go install needs HTTPS certificates: the next run, after apt-get, installs it.
	else
		# Outside the module, so the project's go.mod/go.sum are never touched.
		if (cd / && GOFLAGS='' GOBIN="$gobin" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"); then
			say "installed staticcheck $STATICCHECK_VERSION in $gobin (built with $GOVERSION)"
		else
			printf 'setup: error: go install honnef.co/go/tools/cmd/staticcheck@%s failed\n' "$STATICCHECK_VERSION" >&2
			failed=1
		fi
	fi
fi

if [ "$need_root" -eq 1 ]; then
	printf 'setup: missing Debian packages: %s\n' "${missing[*]}" >&2
	sudo=""
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo "
		printf 'setup: install them with:\n\n' >&2
	else
		printf 'setup: install them as root with:\n\n' >&2
	fi
	printf '  %sapt-get update\n' "$sudo" >&2
	printf '  %sDEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n\n' "$sudo" "${missing[*]}" >&2
	printf 'setup: then run it again: bash scripts/setup.sh\n' >&2
	exit 1
fi

[ "$failed" -eq 0 ] || exit 1

# --- sanity checks after installing ---------------------------------------------
pkg-config --exists gearmand || die "pkg-config cannot find gearmand.pc (package libgearman-dev)"
if ! command -v gearmand >/dev/null 2>&1 && [ ! -x /usr/sbin/gearmand ] && [ ! -x "${GEARMAND:-/nonexistent}" ]; then
	die "gearmand not found (package gearman-job-server; Debian puts it in /usr/sbin)"
fi
exit 0
