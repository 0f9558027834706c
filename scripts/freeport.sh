#!/usr/bin/env bash
# Print a TCP port that is free on 127.0.0.1 right now (the kernel picks it:
# bind to port 0, read the port back, close). Uses python3 when it works,
# otherwise a throwaway Go program built outside this module.
set -euo pipefail

if command -v python3 >/dev/null 2>&1 &&
	port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null) && [ -n "$port" ]; then
	echo "$port"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/main.go" <<'GO'
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "freeport:", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	l.Close()
}
GO
printf 'module freeport\n\ngo 1.21\n' >"$tmp/go.mod"
cd "$tmp" && GOFLAGS='' GOTOOLCHAIN=local go run .
