package store

import (
	"github.com/harvest/harvest/apps/marketing/app"

	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Group commit of gift evaluations.
//
// Fulfillment asks for every paid order's gifts once (stage 3), and its
// calls arrive in batches (marketingclient.BatchRoutes); an evaluation on
// its own is a transaction of four statements even when the customer is a
// candidate of no campaign, which is most of them. The evaluations
// arriving at the same moment are therefore written together
// (group.Writer): one INSERT of their evaluations, one read of the
// campaigns of all their customers, then, campaign by campaign in id order
// (the lock order of a lone evaluation too), the gift stock taken for each
// order the campaign grants to, in the group's order, and one INSERT of
// the grants. A lone evaluation is a group of one: grantAll is the only
// way an evaluation is written. A group that fails (an order evaluated
// before, a deadlock beyond retries) is written again order by order
// (group.AllOrEach), so each caller gets the answer it would have had
// alone.

var grantGroupSize = group.NewSizeHistogram("harvest_marketing_grant_group_orders", "Gift evaluations written per group commit (1 = alone).")

type grantReq struct {
	o      domain.Order
	hash   string
	now    time.Time
	decide app.Decide
	grants []domain.Grant // out
}

// grantAll evaluates every order of g in tx (see above); errRepeat when an
// order was evaluated before.
func (s *Store) grantAll(ctx context.Context, tx *sql.Tx, g []*grantReq) error {
	evArgs := make([]any, 0, 4*len(g))
	var customers []any
	seen := map[string]bool{}
	for _, r := range g {
		r.grants = nil // a retried transaction starts over
		evArgs = append(evArgs, r.o.ID, r.o.CustomerID, r.hash, r.now)
		if !seen[r.o.CustomerID] {
			seen[r.o.CustomerID] = true
			customers = append(customers, r.o.CustomerID)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gift_evaluations (order_id, customer_id, request_hash, created_at) VALUES `+
		sqltx.Tuples("(?,?,?,?)", len(g)), evArgs...); err != nil {
		if sqltx.IsDuplicate(err) {
			return errRepeat
		}
		return fmt.Errorf("record %d evaluations: %w", len(g), err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+campaignCols+`,
		EXISTS(SELECT 1 FROM campaign_exclusions x WHERE x.campaign_id=c.id AND x.customer_id=k.customer_id), k.customer_id
		FROM campaign_candidates k JOIN campaigns c ON c.id=k.campaign_id
		WHERE k.customer_id IN (`+sqltx.Tuples("?", len(customers))+`) ORDER BY c.id`, customers...)
	if err != nil {
		return fmt.Errorf("read campaigns of %d customers: %w", len(customers), err)
	}
	var cs []domain.CampaignSnapshot
	listed := map[string]map[string]bool{} // campaign id → customer → excluded
	for rows.Next() {
		var customer string
		var ex bool
		c, err := scanCampaign(rows, &ex, &customer)
		if err != nil {
			rows.Close()
			return fmt.Errorf("read candidate campaigns: %w", err)
		}
		if _, ok := listed[c.ID]; !ok {
			cs = append(cs, c)
			listed[c.ID] = map[string]bool{}
		}
		listed[c.ID][customer] = ex
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read candidate campaigns: %w", err)
	}
	if err := s.fill(ctx, tx, cs, false); err != nil {
		return err
	}
	var grantArgs []any
	granted := 0
	for _, c := range cs { // in campaign id order
		for _, r := range g {
			excluded, ok := listed[c.ID][r.o.CustomerID]
			if !ok || !r.decide(domain.RestoreCampaign(c), excluded) {
				continue
			}
			if took, err := takeGiftStock(ctx, tx, c.ID); err != nil {
				return err
			} else if !took {
				continue // out of gift stock: no grant
			}
			gr := domain.Grant{CampaignID: c.ID, OrderID: r.o.ID, CustomerID: r.o.CustomerID, SKU: c.Spec.Gift.SKU, Qty: c.Spec.Gift.QtyPerOrder, CreatedAt: r.now}
			r.grants = append(r.grants, gr)
			grantArgs = append(grantArgs, gr.CampaignID, gr.OrderID, gr.CustomerID, gr.SKU, gr.Qty, gr.CreatedAt)
			granted++
		}
	}
	if granted > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO gift_grants (campaign_id, order_id, customer_id, sku, qty, created_at) VALUES `+
			sqltx.Tuples("(?,?,?,?,?,?)", granted), grantArgs...); err != nil {
			return fmt.Errorf("record %d grants: %w", granted, err)
		}
	}
	return nil
}
