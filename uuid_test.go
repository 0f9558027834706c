package gearman

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var v4UUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAppendUUIDKeepsPrefixAndMarksVersion4(t *testing.T) {
	b := appendUUID([]byte("echo\x00"))
	require.Equal(t, "echo\x00", string(b[:5]), "what was in the buffer stays")
	require.Len(t, b, 5+uuidLen)
	require.Regexp(t, v4UUID, string(b[5:]))
	require.NotEqual(t, newUUID(), newUUID())
}

// BenchmarkAppendUUID is the binding's cost of a unique key for a blocking
// call; bench/c/uuidcost.c measures libgearman's (bench/notes.md).
func BenchmarkAppendUUID(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendUUID(buf[:0])
	}
}
