#!/usr/bin/env bash
# make demo: the reverse example (the PHP manual's worker/client pair) against
# a throwaway gearmand. The work is done by the Go driver examples/reverse/demo
# (gearmantest.Start, package admin); this script only gives it the
# environment of scripts/common.sh, then builds and runs it. The driver is run
# as a binary, not with `go run`, so that a signal sent to its pid reaches it.
#
# Environment, read by the driver: DEMO_DELAY (default 1s) is the worker's
# pause per character, like the PHP example's sleep(1); DEMO_TIMEOUT (default
# 120, seconds) bounds the client; DEMO_BIN, a directory holding worker and
# client already built, skips their build (scripts/test.sh runs its
# -tags gearman_static build this way).
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

work=$(mktemp -d "${TMPDIR:-/tmp}/libgearman-go-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/demo" ./examples/reverse/demo
"$work/demo"
