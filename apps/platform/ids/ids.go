// Package ids makes identifiers that sort by creation time (ULID layout:
// 48 bits of milliseconds and 80 random bits, Crockford base32, 26 chars), so
// rows keyed by them insert at the end of a B-tree instead of at random.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var (
	mu       sync.Mutex
	lastMs   uint64
	lastRand [10]byte
)

// New returns a fresh identifier; identifiers made in the same millisecond by
// one process are strictly increasing.
func New() string { return NewAt(time.Now()) }

// NewAt returns an identifier for the time t.
func NewAt(t time.Time) string {
	ms := uint64(t.UnixMilli())
	mu.Lock()
	if ms <= lastMs {
		ms = lastMs
		for i := len(lastRand) - 1; i >= 0; i-- { // increment the random part
			lastRand[i]++
			if lastRand[i] != 0 {
				break
			}
		}
	} else {
		lastMs = ms
		_, _ = rand.Read(lastRand[:])
	}
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	copy(b[6:], lastRand[:])
	mu.Unlock()
	return encode(b)
}

func encode(b [16]byte) string {
	var out [26]byte
	// 128 bits as 26 base32 digits, most significant first (2 leading bits zero).
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
