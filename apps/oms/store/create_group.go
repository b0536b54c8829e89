package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Group commit of new orders.
//
// Placing an order ends in one transaction of six statements (idempotency
// key, order, lines, timeline, outbox, and BEGIN/COMMIT around them); at a
// few hundred orders a second those statements were the largest single
// share of the database's work. Orders created at the same moment are
// therefore written together (group.Writer): one transaction with one
// multi-row INSERT per table for the whole group. A caller that finds
// fewer than group.InFlight groups committing starts one at once with
// whatever has queued, itself included, so a lone order waits for nobody;
// under load the queue grows while groups commit and the next group takes
// it all. A lone order is a group of one: insertOrders is the only way an
// order is written.
//
// A group is all or nothing (group.AllOrEach): if its transaction fails
// for any reason (an idempotency key already used, a deduction taken
// meanwhile, a deadlock beyond retries), every order of the group is
// written again on its own, and gets the error it would have had alone.

var createGroupSize = group.NewSizeHistogram("harvest_oms_create_group_orders", "New orders written per group commit (1 = alone).")

type createReq struct {
	snap   domain.Snapshot
	idem   app.Idempotency
	events []outbox.Event
}

// Create writes a new order, its lines, timeline and deductions, the
// idempotency record and the outbox events atomically, in a group with the
// orders created at the same moment (see above). It waits for the outcome
// even when ctx ends first: the caller releases the order's stock on an
// error, which must never happen to an order that was written.
func (s *Store) Create(ctx context.Context, o *domain.Order, idem app.Idempotency, events []outbox.Event) error {
	if err := s.creates.Write(ctx, &createReq{snap: o.Snapshot(), idem: idem, events: events}); err != nil {
		return err
	}
	o.MarkStored(0)
	return nil
}

// insertOrders writes every order of batch with one statement per table.
// Its errors name what a lone order's caller needs: app.ErrDuplicateKey
// for an idempotency key used before, app.ErrPlacementVoided for an order
// id a check-back voided, *app.DeductionInUseError.
func insertOrders(ctx context.Context, tx *sql.Tx, batch []*createReq) error {
	var (
		idemArgs, orderRows []any
		lineQ               strings.Builder
		lineArgs            []any
		timeline            []timelineRow
		events              []outbox.Event
	)
	for _, r := range batch {
		idemArgs = append(idemArgs, r.idem.CustomerID, r.idem.Key, r.idem.RequestHash, r.idem.OrderID, r.idem.CreatedAt)
		orderRows = append(orderRows, orderArgs(r.snap)...)
		for i, l := range r.snap.Lines {
			if len(lineArgs) > 0 {
				lineQ.WriteByte(',')
			}
			lineQ.WriteString("(?,?,?,?,?,?,?)")
			lineArgs = append(lineArgs, r.snap.ID, i, l.SKU, l.Name, l.Qty, l.UnitPrice, l.Amount)
		}
		for i, e := range r.snap.Timeline {
			timeline = append(timeline, timelineRow{orderID: r.snap.ID, seq: i, ev: e})
		}
		events = append(events, r.events...)
	}
	which := ordersNamed(batch)
	if _, err := tx.ExecContext(ctx, `INSERT INTO order_idempotency (customer_id, idem_key, request_hash, order_id, created_at) VALUES `+
		sqltx.Tuples("(?,?,?,?,?)", len(batch)), idemArgs...); err != nil {
		if sqltx.IsDuplicate(err) {
			return app.ErrDuplicateKey
		}
		return fmt.Errorf("insert idempotency keys of %s: %w", which, err)
	}
	if _, err := tx.ExecContext(ctx, insertOrdersSQL(len(batch)), orderRows...); err != nil {
		return fmt.Errorf("insert %s: %w", which, err)
	}
	if len(lineArgs) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines (order_id, line_no, sku, name, qty, unit_price_fen, amount_fen) VALUES `+
			lineQ.String(), lineArgs...); err != nil {
			return fmt.Errorf("insert lines of %s: %w", which, err)
		}
	}
	if err := insertTimeline(ctx, tx, timeline); err != nil {
		if sqltx.IsDuplicate(err) {
			// The check-back's tombstone: see VoidOrderID.
			return fmt.Errorf("%s: %w", which, app.ErrPlacementVoided)
		}
		return err
	}
	for _, r := range batch {
		if err := insertDeductions(ctx, tx, r.snap.ID, r.snap.DeductionIDs); err != nil {
			return err
		}
		// Born with SMS recipients (a reissue's, inherited): rare, so a
		// statement of its own rather than a column every insert carries.
		if len(r.snap.SMSRecipients) > 0 {
			b, err := json.Marshal(r.snap.SMSRecipients)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE orders SET sms_recipients = ? WHERE id = ?`, b, r.snap.ID); err != nil {
				return fmt.Errorf("save SMS recipients of %s: %w", r.snap.ID, err)
			}
		}
	}
	_, err := outbox.Add(ctx, tx, events...)
	return err
}

// ordersNamed names the orders of batch for an error: "order <id>" alone.
func ordersNamed(batch []*createReq) string {
	if len(batch) == 1 {
		return "order " + batch[0].snap.ID
	}
	return fmt.Sprintf("%d orders from %s", len(batch), batch[0].snap.ID)
}
