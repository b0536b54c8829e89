package fulfillment

import (
	"encoding/json"
	"fmt"

	"github.com/golang/snappy"
)

// A unit's document is stored compressed.
//
// Every stage commit rewrites its unit's whole document (about 2 KB of
// JSON, more with many lines), some fourteen times per order; at 160
// orders/s those rewrites were two thirds of all the SQL text MariaDB
// lexed and of what InnoDB wrote. Compressed with Snappy a document is
// well under half its size. (Deflate, tried first, made documents
// smaller still but cost a quarter of OMS's CPU.) A stored document
// starts with docSnappy and the Snappy block; one starting with '{' is
// plain JSON, as rows written before were, and still reads.

const docSnappy byte = 0x02

// encodeDoc is d as stored: docSnappy, then its JSON compressed.
func encodeDoc(d *Doc) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+snappy.MaxEncodedLen(len(raw)))
	out[0] = docSnappy
	return out[:1+len(snappy.Encode(out[1:], raw))], nil
}

// decodeDoc reads a stored document, compressed or plain JSON.
func decodeDoc(b []byte, d *Doc) error {
	if len(b) > 0 && b[0] == docSnappy {
		raw, err := snappy.Decode(nil, b[1:])
		if err != nil {
			return fmt.Errorf("decompress document: %w", err)
		}
		b = raw
	}
	return json.Unmarshal(b, d)
}
