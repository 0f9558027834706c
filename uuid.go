package gearman

import (
	"crypto/rand"
	"encoding/hex"
)

// A job submitted without a unique key gets its key from the binding, not
// from libgearman. Given none, libgearman asks libuuid for a time-based UUID,
// and libuuid first tries the uuidd daemon: a socket, a connect to
// /run/uuidd/request that fails where uuidd does not run, and a close, for
// every job, a large part of what a whole sequential DoNormal costs the C
// client (bench/notes.md); a random UUID made here costs next to nothing.
// Server and worker see the same kind of key as
// before: 36 lowercase hex digits and dashes, with 122 random bits so that
// two clients never submit the same key by chance (gearmand would coalesce
// their jobs).

const (
	uuidLen   = 36 // the text form: 32 hex digits and 4 dashes
	uuidBytes = 16 // the random bits, before they are written out
)

// newUUID makes a random (version 4) UUID.
func newUUID() string {
	var s [uuidLen + uuidBytes]byte
	return string(appendUUID(s[:0]))
}

// appendUUID appends a random (version 4) UUID to b, so that the blocking
// calls can write it straight into the names they hand to C. The random bytes
// are read into b's spare capacity rather than a local array: under the race
// detector crypto/rand.Read's argument escapes, and a local array would cost
// an allocation per job there.
func appendUUID(b []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, uuidLen+uuidBytes)...)
	s, r := b[n:n+uuidLen], b[n+uuidLen:]
	_, _ = rand.Read(r) // documented never to fail
	r[6] = r[6]&0x0f | 0x40
	r[8] = r[8]&0x3f | 0x80
	hex.Encode(s[0:8], r[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], r[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], r[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], r[8:10])
	s[23] = '-'
	hex.Encode(s[24:], r[10:])
	return b[:n+uuidLen]
}
