//go:build cgo && linux && gearman_static

package gearman

// With -tags gearman_static the executable carries libgearman itself and needs
// no libgearman.so at run time (Debian: libgearman-dev ships libgearman.a).
//
// Linked statically: libgearman.a (which also holds libhashkit) and libuuid.a,
// its one C dependency (uuid-dev). Left shared: libstdc++ and libgcc_s, which
// libgearman's C++ code needs, and libc. They are on every system with a C++
// runtime, keep a stable ABI, and a second, private copy of the C++ runtime in
// a program that loads another C++ library is a known source of trouble. cgo
// links with gcc, not g++, so -lstdc++ is named here (g++ provides it).
//
// No pkg-config here: gearmand.pc lists no static dependencies, and its
// -lgearman would add a dependency on libgearman.so again. -l:libgearman.a
// names the archive itself. For a libgearman outside the default paths, set
// CGO_CFLAGS=-I... and CGO_LDFLAGS=-L....
//
// --wrap=setsockopt and GM_STATIC keep the large-payload fix working when the
// call comes from inside the executable (sockopt.c); the other four --wrap
// flags do the same for the binding's view of the wire (wire.c).

// #cgo CFLAGS: -DGM_STATIC
// #cgo LDFLAGS: -l:libgearman.a -l:libuuid.a -lstdc++ -Wl,--wrap=setsockopt -Wl,--wrap=connect -Wl,--wrap=send -Wl,--wrap=recv -Wl,--wrap=poll
import "C"

// linkage is how libgearman was linked; Linkage reports it.
const linkage = "static"
