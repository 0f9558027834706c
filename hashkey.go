package gearman

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// workloadHashKey is the unique key libgearman 1.1.20 makes up for the key
// "#": the decimal MurmurHash3 (x86, 32-bit) of the workload, seeded with
// 0xdeadbeef times its length (libhashkit's murmur3). AddTask computes it
// itself, so that Task.Unique returns it before the task is submitted, as
// PHP's unique() does; libhashkit's function is not exported.
func workloadHashKey(workload []byte) string {
	return strconv.FormatUint(uint64(murmur3x86(workload, 0xdeadbeef*uint32(len(workload)))), 10)
}

func murmur3x86(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	mix := func(k uint32) uint32 { return bits.RotateLeft32(k*c1, 15) * c2 }
	h := seed
	n := len(data) / 4 * 4
	for i := 0; i < n; i += 4 {
		h ^= mix(binary.LittleEndian.Uint32(data[i:]))
		h = bits.RotateLeft32(h, 13)*5 + 0xe6546b64
	}
	var k uint32
	switch tail := data[n:]; len(tail) {
	case 3:
		k ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(tail[0])
		h ^= mix(k)
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
