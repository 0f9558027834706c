# libgearman-go: the two ways to run things are `make demo` and `make test`.
# Both first run scripts/setup.sh, which installs whatever is missing (as root)
# or prints the apt-get command to run (as another user).
# The steps live in scripts/ so that CI (.ci/run) and ci/Dockerfile share them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian installs gearmand in /usr/sbin, which is not on a normal user's PATH;
# the tests read $GEARMAND. A value given by the caller wins. (scripts/common.sh
# repeats this after setup, for a first run on a machine without gearmand yet.)
ifeq ($(origin GEARMAND),undefined)
  ifeq ($(shell command -v gearmand 2>/dev/null),)
    ifneq ($(wildcard /usr/sbin/gearmand),)
      export GEARMAND := /usr/sbin/gearmand
    endif
  endif
endif

.PHONY: help setup demo test lint generate bench

help:
	@echo 'make demo      install what is missing, then run the reverse worker and client'
	@echo '               (examples/reverse) against a throwaway gearmand on 127.0.0.1,'
	@echo '               driven by examples/reverse/demo (DEMO_DELAY=0s skips the pauses)'
	@echo 'make test      install what is missing, then gofmt, go vet, staticcheck,'
	@echo '               CGO_ENABLED=0 go build, go test -race, go test with cgocheck2'
	@echo 'make lint      gofmt, go vet, staticcheck only'
	@echo 'make generate  go generate ./...'
	@echo 'make bench     C, Go and PHP side by side (bench/run.sh; docs/benchmarks.md)'
	@echo 'make setup     only install what is missing (scripts/setup.sh)'

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	@bash scripts/test.sh

lint: setup
	@bash scripts/test.sh lint

generate:
	go generate ./...

# The C / Go / PHP benchmark (bench/run.sh): writes docs/benchmarks.md and
# docs/benchmarks.svg. BENCH_SCALE, BENCH_RUNS, BENCH_ONLY and BENCH_IMPLS
# scale it down (see the script's header).
bench: setup
	@bash bench/run.sh
