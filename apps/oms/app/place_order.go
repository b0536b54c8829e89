package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// MaxKeyLen bounds an idempotency key.
const MaxKeyLen = 128

// PlaceOrder is an accept-order call (接单).
type PlaceOrder struct {
	IdempotencyKey string
	Placement      domain.Placement
}

// hash fingerprints the request, so a reused key with other content is
// told apart from a retry.
func (c PlaceOrder) hash() string {
	b, _ := json.Marshal(c.Placement) // a struct of strings, numbers and slices cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// PlaceOrder accepts an order (DOMAIN 1.2). It reports whether the order
// was created by this call (false: an earlier call with the same key made it).
//
// Order of work, and why:
//  1. The idempotency key is locked in this process (keyLocks, bounded
//     wait), so concurrent duplicates wait for the first and then return its
//     order instead of each reserving stock (which would make scarce SKUs
//     look sold out to the duplicates). The unique key on the idempotency
//     table is the last word, across replicas too.
//  2. Everything is validated before any write: structure, PAY's
//     deductions, and the amounts at the prices the customer saw.
//  3. The order id is made first and stock is reserved under it, at those
//     prices, with one unit of the delivery slot at each warehouse
//     shipping the lines (unless Config.SlotCheck is off): inventory checks the SKUs and prices against its catalog
//     before taking anything and answers with the catalog entries, so
//     placing costs one call to inventory, not two. The reservation is
//     idempotent by order id and checks back after its TTL, releasing it
//     when the order does not exist.
//  4. One local transaction writes the order, lines, timeline, deductions,
//     the idempotency row and the outbox events. If it fails, the
//     reservation is released at once (best effort; the check-back is the
//     guarantee, which closes the crash hole).
func (s *Service) PlaceOrder(ctx context.Context, cmd PlaceOrder) (o *domain.Order, created bool, err error) {
	start := time.Now()
	defer func() {
		outcome := "created"
		switch {
		case err != nil && (errors.Is(err, domain.ErrInvalidOrder) || isBusiness(err)):
			outcome = "rejected"
		case err != nil:
			outcome = "error"
		case !created:
			outcome = "replayed"
		}
		placeSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	}()

	p := cmd.Placement
	switch {
	case strings.TrimSpace(cmd.IdempotencyKey) == "":
		return nil, false, invalid("idempotency_key", "REQUIRED", "an idempotency key is required")
	case len(cmd.IdempotencyKey) > MaxKeyLen:
		return nil, false, invalid("idempotency_key", "TOO_LONG", fmt.Sprintf("idempotency key longer than %d", MaxKeyLen))
	case strings.TrimSpace(p.CustomerID) == "":
		return nil, false, invalid("customer_id", "REQUIRED", "customer is required")
	case domain.Source(p.Source).Direct():
		return nil, false, invalid("source", "SOURCE_NOT_ACCEPTED", "a "+p.Source+" order is made by customer service's pull-back, never through the accept-order API")
	}
	hash := cmd.hash()

	unlock, err := s.keys.lock(ctx, p.CustomerID+"\x00"+cmd.IdempotencyKey, s.cfg.KeyLockWait)
	if err != nil {
		return nil, false, err
	}
	defer unlock()

	if rec, ok, err := s.repo.FindIdempotency(ctx, p.CustomerID, cmd.IdempotencyKey); err != nil {
		return nil, false, err
	} else if ok {
		return s.replay(ctx, rec, hash)
	}

	now := s.clock.Now()
	if vs := p.Check(now); len(vs) > 0 {
		return nil, false, &domain.ValidationError{Violations: vs}
	}
	nonCash, coupons, err := s.checkDeductions(ctx, p.CustomerID, p.DeductionIDs)
	if err != nil {
		return nil, false, err
	}
	if err := checkCoupons(p.CouponIDs, coupons); err != nil {
		return nil, false, err
	}
	if err := s.checkCouponRules(ctx, p, coupons); err != nil {
		return nil, false, err
	}
	var orig *domain.Order
	if src := domain.Source(p.Source); (src == domain.SourceReissue || src == domain.SourceExchange) && p.OriginalOrder != "" {
		// The order sent again inherits the original's SMS recipients; an
		// original OMS does not hold (a partner's order) has none to give.
		orig, err = s.repo.Get(ctx, p.OriginalOrder)
		if errors.Is(err, domain.ErrNotFound) {
			orig, err = nil, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("read original order %s: %w", p.OriginalOrder, err)
		}
	}
	id, window := ids.New(), s.cfg.PayWindow(p.Channel)
	// Every rule but the catalog's, at the prices the customer saw, before
	// anything is written.
	if _, err := domain.NewOrder(id, p, asPriced(p.Lines), nonCash, now, window); err != nil {
		return nil, false, err
	}
	catalog, err := s.reserve(ctx, id, p.Lines, p.Slot)
	if err != nil {
		return nil, false, err
	}
	o, err = domain.NewOrder(id, p, catalog, nonCash, now, window)
	if err != nil {
		s.release(ctx, id)
		return nil, false, err
	}
	if orig != nil {
		o.InheritSMSRecipients(orig, now)
	}

	evs := []outbox.Event{placedEvent(o)}
	if len(o.DeductionIDs()) > 0 {
		evs = append(evs, deductionsUsedEvent(o))
	}
	if o.Status() == domain.StatusPaid {
		evs = append(evs, paidEvent(o, now))
	}
	idem := Idempotency{CustomerID: p.CustomerID, Key: cmd.IdempotencyKey, RequestHash: hash, OrderID: o.ID(), CreatedAt: now}
	if err := s.repo.Create(ctx, o, idem, evs); err != nil {
		s.release(ctx, o.ID())
		if errors.Is(err, ErrDuplicateKey) {
			rec, ok, ferr := s.repo.FindIdempotency(ctx, p.CustomerID, cmd.IdempotencyKey)
			if ferr != nil || !ok {
				return nil, false, errors.Join(err, ferr)
			}
			return s.replay(ctx, rec, hash)
		}
		var inUse *DeductionInUseError
		if errors.As(err, &inUse) {
			return nil, false, deductionInUse(p.DeductionIDs, inUse.IDs, inUse.Released)
		}
		if errors.Is(err, ErrPlacementVoided) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("commit order %s: %w", o.ID(), err)
	}
	s.notify()
	ordersPlaced.WithLabelValues(string(o.Source()), string(o.Status())).Inc()
	if o.Status() == domain.StatusPendingPayment {
		s.arm(ctx, o)
	}
	return o, true, nil
}

func isBusiness(err error) bool {
	var oos *OutOfStockError
	var de *DeductionError
	var sf *SlotFullError
	return errors.As(err, &oos) || errors.As(err, &sf) || errors.As(err, &de) || errors.Is(err, ErrIdempotencyReuse) || errors.Is(err, ErrPlacementVoided)
}

func (s *Service) replay(ctx context.Context, rec Idempotency, hash string) (*domain.Order, bool, error) {
	if rec.RequestHash != hash {
		return nil, false, ErrIdempotencyReuse
	}
	o, err := s.repo.Get(ctx, rec.OrderID)
	if err != nil {
		return nil, false, fmt.Errorf("order %s of an idempotency key: %w", rec.OrderID, err)
	}
	return o, false, nil
}

// asPriced is the catalog as the customer saw it: each line's SKU at the
// line's price. Placement.Check refuses a SKU on two lines, so it is
// unambiguous.
func asPriced(lines []domain.LineInput) map[string]domain.Product {
	out := make(map[string]domain.Product, len(lines))
	for _, l := range lines {
		out[l.SKU] = domain.Product{SKU: l.SKU, Name: l.SKU, Price: l.UnitPrice}
	}
	return out
}

// catalogViolations turns inventory's refusal of unknown SKUs or changed
// prices into violations on the lines that carry them; other errors pass.
func catalogViolations(lines []domain.LineInput, err error) error {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return err
	}
	var vs []domain.Violation
	switch p.Code {
	case inventoryclient.CodeUnknownSKU:
		unknown := problemSKUs(p)
		for i, l := range lines {
			if slices.Contains(unknown, l.SKU) {
				vs = append(vs, domain.Violation{Field: fmt.Sprintf("lines[%d].sku", i), Code: "UNKNOWN_SKU",
					Message: fmt.Sprintf("SKU %s is not in the catalog", l.SKU)})
			}
		}
	case inventoryclient.CodePriceChanged:
		prices, _ := p.Details["prices"].(map[string]any)
		for i, l := range lines {
			if v, ok := prices[l.SKU]; ok {
				vs = append(vs, domain.Violation{Field: fmt.Sprintf("lines[%d].unit_price_fen", i), Code: "PRICE_MISMATCH",
					Message: fmt.Sprintf("unit price %s differs from the catalog's %s for %s", l.UnitPrice, catalogPrice(v), l.SKU)})
			}
		}
	}
	if len(vs) == 0 {
		return err
	}
	return &domain.ValidationError{Violations: vs}
}

// catalogPrice reads a price from a Problem's details: a number over the
// wire, money.Fen or int64 from an in-process caller.
func catalogPrice(v any) money.Fen {
	switch x := v.(type) {
	case float64:
		return money.Fen(x)
	case int64:
		return money.Fen(x)
	case money.Fen:
		return x
	}
	return 0
}

// problemSKUs reads Details["skus"], which arrives as []any over the wire
// and as []string from an in-process caller.
func problemSKUs(p *httpapi.Problem) []string {
	switch v := p.Details["skus"].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkDeductions verifies every non-cash deduction with PAY and locally:
// it exists, belongs to the customer, is HELD and is not used by another
// order. It returns their sum, the order's non-cash part, and the coupons
// they hold.
func (s *Service) checkDeductions(ctx context.Context, customerID string, dids []string) (money.Fen, map[string]bool, error) {
	coupons := map[string]bool{}
	if len(dids) == 0 {
		return 0, coupons, nil
	}
	inUse, err := s.repo.DeductionsInUse(ctx, dids)
	if err != nil {
		return 0, nil, err
	}
	var (
		sum money.Fen
		vs  []domain.Violation
	)
	bad := func(i int, code, format string, args ...any) {
		vs = append(vs, domain.Violation{Field: fmt.Sprintf("deduction_ids[%d]", i), Code: code, Message: fmt.Sprintf(format, args...)})
	}
	for i, id := range dids {
		if other, ok := inUse[id]; ok {
			if other == "" {
				bad(i, "DEDUCTION_RELEASED", "deduction %s was given back: no order used it in time", id)
			} else {
				bad(i, "DEDUCTION_IN_USE", "deduction %s is used by order %s", id, other)
			}
			continue
		}
		d, err := s.pay.GetDeduction(ctx, id)
		switch {
		case httpapi.HasCode(err, payclient.CodeNotFound):
			bad(i, "DEDUCTION_NOT_FOUND", "deduction %s does not exist", id)
			continue
		case err != nil:
			return 0, nil, fmt.Errorf("read deduction %s: %w", id, err)
		}
		switch {
		case d.CustomerID != customerID:
			// Said like "not found": whose deduction it is, is not this caller's business.
			bad(i, "DEDUCTION_NOT_FOUND", "deduction %s does not exist for this customer", id)
		case d.Status == payclient.DeductionUsed:
			bad(i, "DEDUCTION_IN_USE", "deduction %s is used by order %s", id, d.OrderID)
		case d.Status != payclient.DeductionHeld:
			bad(i, "DEDUCTION_NOT_HELD", "deduction %s is %s, not HELD", id, d.Status)
		case d.TotalFen < 0:
			bad(i, "DEDUCTION_INVALID", "deduction %s has a negative total", id)
		default:
			sum += d.TotalFen
			for _, it := range d.Items {
				if it.Kind == payclient.KindCoupon && it.CouponID != "" {
					coupons[it.CouponID] = true
				}
			}
		}
	}
	if len(vs) > 0 {
		return 0, nil, &DeductionError{Violations: vs}
	}
	return sum, coupons, nil
}

// checkCoupons holds the order's coupons to PAY's model of them: a coupon
// is used by being taken in a non-cash deduction (a COUPON item PAY moved
// to HELD, for this customer only), so every coupon the order names must
// be held by one of the order's own deductions, which checkDeductions has
// just verified as this customer's and HELD. Anything else is a coupon the
// order did not pay with: naming it would show, and later hand back, a
// discount nobody took.
func checkCoupons(cids []string, held map[string]bool) error {
	var vs []domain.Violation
	for i, id := range cids {
		if !held[id] {
			vs = append(vs, domain.Violation{Field: fmt.Sprintf("coupon_ids[%d]", i), Code: "COUPON_NOT_DEDUCTED",
				Message: fmt.Sprintf("coupon %s is not held by any of this order's deductions", id)})
		}
	}
	if len(vs) > 0 {
		// A validation failure, so each violation reaches the caller on
		// its own field (the gateway shows DEDUCTION_INVALID as one error
		// on deductionIds).
		return &domain.ValidationError{Violations: vs}
	}
	return nil
}

// deductionInUse names the deductions the commit found taken: by another
// order, or released by PAY's sweep while this placement was under way
// (its check-back claimed them; their money went back).
func deductionInUse(all, used, released []string) error {
	var vs []domain.Violation
	for i, id := range all {
		switch {
		case slices.Contains(used, id):
			vs = append(vs, domain.Violation{Field: fmt.Sprintf("deduction_ids[%d]", i), Code: "DEDUCTION_IN_USE",
				Message: fmt.Sprintf("deduction %s was just used by another order", id)})
		case slices.Contains(released, id):
			vs = append(vs, domain.Violation{Field: fmt.Sprintf("deduction_ids[%d]", i), Code: "DEDUCTION_RELEASED",
				Message: fmt.Sprintf("deduction %s was given back while the order was being placed", id)})
		}
	}
	return &DeductionError{Violations: vs}
}

// reserve holds the order's stock at the customer's prices and returns
// the catalog entries of its SKUs. Out of stock is a business answer and
// unknown SKUs or changed prices are violations; inventory took nothing
// for any of them. Any other failure may hide a reservation that was made
// but not answered, so it is released (best effort) before the error goes
// back.
func (s *Service) reserve(ctx context.Context, orderID string, lines []domain.LineInput, slot domain.Slot) (map[string]domain.Product, error) {
	qty := make(map[string]int64, len(lines))
	for _, l := range lines {
		qty[l.SKU] = l.Qty
	}
	if short := s.soldOut.short(s.clock.Now(), qty); len(short) > 0 {
		slices.Sort(short)
		soldOutRefusals.Inc()
		return nil, &OutOfStockError{SKUs: short}
	}
	req := inventoryclient.ReserveRequest{OrderID: orderID, Lines: make([]inventoryclient.Line, len(lines)), TTL: s.cfg.ReserveTTL,
		Prices: make(map[string]money.Fen, len(lines))}
	for i, l := range lines {
		req.Lines[i] = inventoryclient.Line{SKU: l.SKU, Qty: l.Qty}
		req.Prices[l.SKU] = l.UnitPrice
	}
	if s.cfg.SlotCheck {
		req.Slot = &inventoryclient.Slot{Type: slot.Type, Date: slot.Date}
	}
	res, err := s.inv.Reserve(ctx, req)
	if err == nil {
		out := make(map[string]domain.Product, len(res.Products))
		for _, pr := range res.Products {
			out[pr.SKU] = domain.Product{SKU: pr.SKU, Name: pr.Name, Price: pr.PriceFen}
		}
		return out, nil
	}
	var p *httpapi.Problem
	if errors.As(err, &p) {
		switch p.Code {
		case inventoryclient.CodeOutOfStock:
			short := problemSKUs(p)
			s.soldOut.refused(s.clock.Now(), short, qty)
			return nil, &OutOfStockError{SKUs: short}
		case inventoryclient.CodeUnknownSKU, inventoryclient.CodePriceChanged:
			return nil, catalogViolations(lines, err)
		case inventoryclient.CodeSlotFull:
			var full SlotFullError
			if b, err := json.Marshal(p.Details["slots"]); err == nil {
				_ = json.Unmarshal(b, &full.Slots) // a malformed detail still refuses the order, without names
			}
			return nil, &full
		}
	}
	s.release(ctx, orderID)
	return nil, fmt.Errorf("reserve stock for %s: %w", orderID, err)
}

// release gives a reservation back after a failed placement. It is best
// effort: when it fails, inventory's check-back releases the stock after
// the TTL because the order does not exist.
func (s *Service) release(ctx context.Context, orderID string) {
	err := s.bestEffort(ctx, func(ctx context.Context) error {
		_, err := s.inv.Release(ctx, orderID)
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "release after failed placement failed; inventory's check-back will release it",
			"order_id", orderID, "err", err)
	}
}

// arm registers the payment-deadline reminder. A failure only delays the
// expiry to the next sweep, so it does not fail the placement.
func (s *Service) arm(ctx context.Context, o *domain.Order) {
	if s.rem == nil {
		return
	}
	err := s.bestEffort(ctx, func(ctx context.Context) error { return s.rem.Arm(ctx, o.ID(), o.PayBy()) })
	if err != nil {
		s.log.WarnContext(ctx, "arming payment reminder failed; the expiry sweep will cancel the order",
			"order_id", o.ID(), "err", err)
	}
}

// checkCouponRules asks the coupon wallet whether every coupon the order's
// deductions hold (named in coupon_ids or not: a coupon is used by being
// deducted) applies to the order's lines: its SKUs or categories among
// them, its threshold reached by those goods, its window open. OMS sends
// no categories: it asks before reserving, holding no catalog entries yet,
// and the wallet reads them from inventory's catalog itself when a coupon
// names categories (marketing's Wallet.categorise says why). The lines are priced as the customer
// saw them; domain.NewOrder then holds those prices to the catalog's, so
// an order placed is judged at its own prices.
func (s *Service) checkCouponRules(ctx context.Context, p domain.Placement, held map[string]bool) error {
	if len(held) == 0 {
		return nil
	}
	if s.coupons == nil {
		return fmt.Errorf("order holds coupons and OMS has no coupon wallet to ask")
	}
	ids := make([]string, 0, len(held))
	for id := range held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	req := marketingclient.UseCheckRequest{CustomerID: p.CustomerID, CouponIDs: ids}
	for _, l := range p.Lines {
		req.Lines = append(req.Lines, marketingclient.OrderLine{SKU: l.SKU, Qty: l.Qty, AmountFen: l.UnitPrice * money.Fen(l.Qty)})
	}
	res, err := s.coupons.CheckCouponUse(ctx, req)
	if err != nil {
		return fmt.Errorf("check coupons with the wallet: %w", err)
	}
	if len(res) != len(ids) {
		return fmt.Errorf("coupon wallet answered %d of %d coupons", len(res), len(ids))
	}
	var vs []domain.Violation
	for _, r := range res {
		if r.Code == "" {
			continue
		}
		field := "deduction_ids"
		if i := slices.Index(p.CouponIDs, r.CouponID); i >= 0 {
			field = fmt.Sprintf("coupon_ids[%d]", i)
		}
		vs = append(vs, domain.Violation{Field: field, Code: r.Code, Message: r.Message})
	}
	if len(vs) > 0 {
		return &domain.ValidationError{Violations: vs}
	}
	return nil
}
