#!/usr/bin/env bash
# The whole check suite, shared by `make test`, CI (.ci/run) and ci/Dockerfile.
# Expects scripts/setup.sh to have run (make test runs it first).
#
#   1. gofmt          every .go file is gofmt-clean
#   2. go vet         ./...
#   3. staticcheck    ./...
#   4. !cgo build     CGO_ENABLED=0 go build ./... (the fallback must compile),
#                     and its test: constructors say cgo and libgearman are needed
#   5. static build   examples/reverse built with -tags gearman_static: ldd shows no
#                     libgearman.so, and one round trip through scripts/demo.sh
#   6. go test -race  the suite, with the race detector (fuzz seed corpora included)
#   7. fuzz           each fuzz target for a fixed number of executions (go test -fuzz)
#   8. cgocheck2      the suite again with GOEXPERIMENT=cgocheck2 (strict cgo pointer checks)
#                     and GOMAXPROCS=1, the one-CPU case, where waits begin on the P (sched.go)
#
# `scripts/test.sh lint` runs steps 1-3 only (make lint).
#
# Environment: TEST_TIMEOUT (default 12m) is passed to go test -timeout;
# TEST_FLAGS (e.g. "-v -run TestX") is added to both go test runs.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

# The package is a cgo binding: everything but step 4 builds with cgo, even if
# the caller's environment says otherwise.
export CGO_ENABLED=1
mode=${1:-all}
case "$mode" in
all | lint) ;;
*)
	echo "usage: $0 [all|lint]" >&2
	exit 2
	;;
esac
TEST_TIMEOUT=${TEST_TIMEOUT:-12m}
read -r -a test_flags <<<"${TEST_FLAGS:-}"

step "environment"
go version
echo "CI=${CI:-} GOFLAGS=$GOFLAGS GEARMAND=${GEARMAND:-$(command -v gearmand || echo '<not found>')}"
echo "libgearman $(pkg-config --modversion gearmand 2>/dev/null || echo '<pkg-config: gearmand not found>')"
command -v staticcheck >/dev/null 2>&1 ||
	{ echo "staticcheck not found on PATH; run scripts/setup.sh" >&2; exit 1; }
staticcheck -version

step "gofmt -l"
# Every .go file outside .git, vendor/, testdata/ and directories the go tool
# ignores (names starting with . or _).
unformatted=$(find . \( -name .git -o -name vendor -o -name testdata -o -name '.?*' -o -name '_*' \) -prune -o \
	-type f -name '*.go' -print0 | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	echo "These files are not gofmt-clean (fix with: gofmt -w <file>):" >&2
	while IFS= read -r f; do printf '  %s\n' "$f"; done <<<"$unformatted" >&2
	exit 1
fi
echo ok

step "go vet ./..."
go vet ./...
echo ok

step "staticcheck ./..."
staticcheck ./...
echo ok

if [ "$mode" = lint ]; then
	step "lint passed"
	exit 0
fi

step "CGO_ENABLED=0 go build ./... and its constructor test   (the !cgo fallback)"
CGO_ENABLED=0 go build ./...
CGO_ENABLED=0 go test -count=1 -run 'WithoutCgo' .

step "-tags gearman_static: examples/reverse without libgearman.so, run once"
static_bin=$(mktemp -d "${TMPDIR:-/tmp}/libgearman-go-static.XXXXXX")
trap 'rm -rf "$static_bin"' EXIT
go build -tags gearman_static -o "$static_bin/" ./examples/reverse/worker ./examples/reverse/client
for b in worker client; do
	deps=$(ldd "$static_bin/$b" 2>&1 || true)
	if [[ $deps == *libgearman.so* ]]; then
		printf 'examples/reverse/%s, built with -tags gearman_static, needs libgearman.so:\n%s\n' "$b" "$deps" >&2
		exit 1
	fi
done
# The demo's gearmand, worker and client, with these binaries; its output only on failure.
if ! DEMO_BIN="$static_bin" DEMO_DELAY=0s DEMO_TIMEOUT=60 bash scripts/demo.sh >"$static_bin/demo.log" 2>&1; then
	cat "$static_bin/demo.log" >&2
	exit 1
fi
rm -rf "$static_bin"
trap - EXIT
echo ok

step "go test -race -count=1 -timeout $TEST_TIMEOUT ./..."
go test -race -count=1 -timeout "$TEST_TIMEOUT" "${test_flags[@]}" ./...

# Budgets are execution counts (about 10 s each here), not durations: with a
# duration, Go 1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" when the time runs out mid-execution (go.dev/issue/75804, fixed
# in Go 1.27).
step "go test -fuzz, a fixed number of executions per target   (fuzz, short)"
go test -run '^$' -fuzz '^FuzzWorkloadRoundTrip$' -fuzztime 15000x -fuzzminimizetime 200x .
go test -run '^$' -fuzz '^FuzzArgumentValidation$' -fuzztime 25000x -fuzzminimizetime 200x .

step "GOEXPERIMENT=cgocheck2 GOMAXPROCS=1 go test -count=1 -timeout $TEST_TIMEOUT ./..."
GOEXPERIMENT=cgocheck2 GOMAXPROCS=1 go test -count=1 -timeout "$TEST_TIMEOUT" "${test_flags[@]}" ./...

step "all checks passed"
