//go:build cgo && linux && !gearman_static

package gearman

// The default build links the system's shared libgearman, found with
// pkg-config. -tags gearman_static links it into the executable instead
// (link_static.go).

// #cgo pkg-config: gearmand
import "C"

// linkage is how libgearman was linked; Linkage reports it.
const linkage = "shared"
