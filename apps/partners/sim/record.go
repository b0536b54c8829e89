package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Recording requests in groups.
//
// Fulfillment calls the outside systems about seven times per order, and
// every call is recorded once by its id. One statement per call was the
// largest share of the statements a fulfilled order cost the database, so
// the requests arriving at the same moment are recorded together (package
// group.Writer): one multi-row INSERT … ON DUPLICATE KEY UPDATE writes the new
// ones and counts a delivery on the repeats, then one read by primary key
// tells them apart: a row carrying the sequence number this request drew
// was written by it (numbers are never handed out twice); any other is a
// repeat, answered with the row's stored answer. Two requests of one id in
// the same group come out as one first and one repeat, as they would
// alone. Neither statement needs a transaction: the INSERT is atomic and
// the read comes after its commit. A lone request is a group of one, and
// a group that fails is recorded again request by request
// (group.AllOrEach).

var recordGroupSize = group.NewSizeHistogram("harvest_partners_record_group_requests", "Outside-API requests recorded per group (1 = alone).")

// recordReq is one request waiting to be recorded.
type recordReq struct {
	request
	seq    int64     // the number its answer was built from
	sha    string    // of its body
	at     time.Time // received
	answer []byte    // in: its own answer; out: the answer to give
	dup    bool
}

// recordAll writes g with one INSERT and reads back who was first.
func (s *Server) recordAll(ctx context.Context, g []*recordReq) error {
	// One lock order for concurrent groups: by primary key.
	rows := slices.Clone(g)
	slices.SortFunc(rows, func(a, b *recordReq) int {
		if c := strings.Compare(a.api, b.api); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	args := make([]any, 0, 9*len(rows))
	keys := make([]any, 0, 2*len(rows))
	for _, r := range rows {
		args = append(args, r.api, r.id, r.seq, r.ref, r.body, r.sha, r.answer, r.at, r.at)
		keys = append(keys, r.api, r.id)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO partner_requests (api, request_id, seq, ref, body, body_sha, result, first_at, last_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?,?,?,?,?)", len(rows))+`
		ON DUPLICATE KEY UPDATE deliveries=deliveries+1, changed=changed+IF(body_sha=VALUES(body_sha),0,1), last_at=VALUES(last_at)`,
		args...); err != nil {
		return fmt.Errorf("record %d requests: %w", len(rows), err)
	}
	q, err := s.db.QueryContext(ctx, `SELECT api, request_id, seq, result FROM partner_requests WHERE (api, request_id) IN (`+
		sqltx.Tuples("(?,?)", len(rows))+`)`, keys...)
	if err != nil {
		return fmt.Errorf("read back %d requests: %w", len(rows), err)
	}
	defer q.Close()
	type stored struct {
		seq    int64
		result []byte
	}
	got := make(map[[2]string]stored, len(rows))
	for q.Next() {
		var api, id string
		var st stored
		if err := q.Scan(&api, &id, &st.seq, &st.result); err != nil {
			return err
		}
		got[[2]string{api, id}] = st
	}
	if err := q.Err(); err != nil {
		return err
	}
	for _, r := range g {
		if _, ok := got[[2]string{r.api, r.id}]; !ok {
			return fmt.Errorf("request %s %s was not recorded", r.api, r.id)
		}
	}
	for _, r := range g { // answered only once the whole group is
		if st := got[[2]string{r.api, r.id}]; st.seq != r.seq {
			r.answer, r.dup = st.result, true
		}
	}
	return nil
}
