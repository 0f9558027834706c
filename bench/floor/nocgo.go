//go:build !cgo

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "floor: built without cgo; it needs libgearman")
	os.Exit(1)
}
