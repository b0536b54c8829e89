package fulfillment

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// A unit's document is stored compressed.
//
// Every stage commit rewrites its unit's whole document (about 2 KB of
// JSON, more with many lines), some fourteen times per order; at 160
// orders/s those rewrites were two thirds of all the SQL text MariaDB
// lexed and of what InnoDB wrote. Deflated (best speed) a document is
// about a third of that, for a few microseconds of OMS's time. A stored
// document starts with docDeflated and the deflate stream; one starting
// with '{' is plain JSON, as rows written before were, and still reads.

const docDeflated byte = 0x01

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // BestSpeed is a valid level: no error
	return w
}}

// encodeDoc is d as stored: docDeflated, then its JSON deflated.
func encodeDoc(d *Doc) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 16)
	buf.WriteByte(docDeflated)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeDoc reads a stored document, deflated or plain JSON.
func decodeDoc(b []byte, d *Doc) error {
	if len(b) > 0 && b[0] == docDeflated {
		raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(b[1:])))
		if err != nil {
			return fmt.Errorf("inflate document: %w", err)
		}
		b = raw
	}
	return json.Unmarshal(b, d)
}
