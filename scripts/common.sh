# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh: the environment both of them
# (and therefore make, CI and the Dockerfile) run with. Not meant to be executed.

# Repository root, whatever the caller's working directory.
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT

# Binaries installed with `go install` must be on PATH, first: setup.sh puts
# the staticcheck that matches this Go release there, and it must win over
# any other staticcheck on PATH.
if command -v go >/dev/null 2>&1; then
	_gobin=$(go env GOBIN)
	[ -n "$_gobin" ] || _gobin="$(go env GOPATH | cut -d: -f1)/bin"
	case ":$PATH:" in
	*":$_gobin:"*) ;;
	*) PATH="$_gobin:$PATH" ;;
	esac
	unset _gobin
fi
# Debian installs gearmand in /usr/sbin, which is not on a normal user's PATH.
# The tests (package gearmantest) read $GEARMAND; respect a value already set.
if [ -z "${GEARMAND:-}" ] && ! command -v gearmand >/dev/null 2>&1 && [ -x /usr/sbin/gearmand ]; then
	GEARMAND=/usr/sbin/gearmand
fi
export PATH ${GEARMAND:+GEARMAND}

# CI-friendly defaults. CI itself is passed through as given (CI=true on CI).
# -buildvcs=false: a checkout copied into a container may have a .git that
# the container's git refuses to read ("dubious ownership").
case " ${GOFLAGS:-} " in
*" -buildvcs="*) ;;
*) GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false" ;;
esac
# -mod=readonly (the default, made explicit): nothing here rewrites go.mod/go.sum.
case " $GOFLAGS " in
*" -mod="*) ;;
*) GOFLAGS="$GOFLAGS -mod=readonly" ;;
esac
export GOFLAGS
export GOTRACEBACK="${GOTRACEBACK:-all}" # full goroutine dump if a test times out
# libgearman adds the servers listed here to every new client and worker;
# the tests and the demo pick their own server.
unset GEARMAN_SERVERS

# step "title": a header line per step, visible in CI logs.
step() {
	printf '\n==> %s\n' "$*"
}
