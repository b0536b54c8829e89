package sim

import (
	"context"
	"fmt"
	"sync"
)

// seqBlockSize is how many sequence numbers one reservation takes. A
// restart abandons the rest of its block: numbers stay unique, with gaps,
// as a real partner's document numbers may have.
const seqBlockSize = 1000

// seqBlock hands out the partner's sequence numbers (unique over all APIs
// and restarts) from a block reserved in partner_sequence, one statement
// per seqBlockSize numbers.
type seqBlock struct {
	mu        sync.Mutex
	next, end int64
}

// nextSeq is the next sequence number, reserving a new block when the
// current one is used up.
func (s *Server) nextSeq(ctx context.Context) (int64, error) {
	b := &s.seqs
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next == b.end {
		res, err := s.db.ExecContext(ctx, `UPDATE partner_sequence SET next_seq = LAST_INSERT_ID(next_seq + ?) WHERE id = 1`, seqBlockSize)
		if err != nil {
			return 0, fmt.Errorf("reserve sequence numbers: %w", err)
		}
		end, err := res.LastInsertId()
		if err != nil {
			return 0, fmt.Errorf("reserve sequence numbers: %w", err)
		}
		b.next, b.end = end-seqBlockSize, end
	}
	n := b.next
	b.next++
	return n, nil
}
