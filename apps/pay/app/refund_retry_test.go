package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/store"
)

// failingChannel is a channel that takes the first `fails` refunds it is
// sent and then fails them (a frozen merchant balance, a closed account):
// they never reach the channel stand-in, so its own books stay right, and
// a query of one answers FAILED. Later refunds pass through.
type failingChannel struct {
	channel.Adapter
	mu     *sync.Mutex
	fails  *int
	failed map[string]bool
	sent   map[string]int
}

func (c failingChannel) Refund(ctx context.Context, r channel.RefundRequest) (channel.RefundResult, error) {
	c.mu.Lock()
	c.sent[r.RefundNo]++
	if c.failed[r.RefundNo] || *c.fails > 0 {
		if !c.failed[r.RefundNo] {
			*c.fails--
			c.failed[r.RefundNo] = true
		}
		c.mu.Unlock()
		return channel.RefundResult{State: channel.RefundProcessing}, nil
	}
	c.mu.Unlock()
	return c.Adapter.Refund(ctx, r)
}

func (c failingChannel) QueryRefund(ctx context.Context, tradeNo, refundNo string) (channel.RefundResult, error) {
	c.mu.Lock()
	failed := c.failed[refundNo]
	c.mu.Unlock()
	if failed {
		return channel.RefundResult{State: channel.RefundFailed}, nil
	}
	return c.Adapter.QueryRefund(ctx, tradeNo, refundNo)
}

// failing is h's PAY with every channel failing the first fails refunds.
func failing(h *harness, fails int) (*app.Service, failingChannel) {
	fc := failingChannel{mu: &sync.Mutex{}, fails: &fails, failed: map[string]bool{}, sent: map[string]int{}}
	chans := map[string]channel.Adapter{}
	for name, ad := range h.chans {
		fc.Adapter = ad
		chans[name] = fc
	}
	return app.New(store.New(h.db), h.oms, nil, chans, h.inv, h.clk, nil, nil, app.Config{FinanceApp: "partners", RefundConcurrency: 4}), fc
}

// cancelPaid pays order id by channel and cancels it: its full refund is
// SUBMITTING.
func cancelPaid(h *harness, svc *app.Service, id string, amount int64) domain.Trade {
	h.t.Helper()
	tr := h.startAndPay("WECHAT", id, amount)
	if err := h.partners.Tick(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.atOMS(id, omsclient.StatusCancelled)
	if err := svc.OnOrderCancelled(h.ctx, "cancel-"+id, omsevents.OrderCancelled{OrderID: id, Reason: omsevents.ReasonExpired}); err != nil {
		h.t.Fatal(err)
	}
	return tr
}

// drain runs the refund workers until nothing is due for a while, the
// clock moving past every backoff.
func drain(h *harness, svc *app.Service) {
	h.t.Helper()
	for range 40 {
		if err := svc.ProcessRefunds(h.ctx); err != nil {
			h.t.Fatal(err)
		}
		h.clk.Advance(20 * time.Second)
	}
}

type refundRow struct {
	id, cause, status string
	amount            int64
}

func (h *harness) refundRows(tradeID string) []refundRow {
	h.t.Helper()
	rows, err := h.db.Query(`SELECT id, cause_key, status, amount_fen FROM refunds WHERE trade_id=? ORDER BY created_at, cause_key`, tradeID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []refundRow
	for rows.Next() {
		var r refundRow
		if err := rows.Scan(&r.id, &r.cause, &r.status, &r.amount); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// A cancelled order's full refund that the channel fails twice is tried
// again by PAY after its backoffs and succeeds on the third attempt: the
// money comes back once, in full, with one refund event.
func TestFailedFullRefundIsRetriedUntilItSucceedsOnce(t *testing.T) {
	h := newHarness(t)
	svc, fc := failing(h, 2)
	tr := cancelPaid(h, svc, "O1", 5_000)
	if err := svc.ProcessRefunds(h.ctx); err != nil { // submit attempt 1
		t.Fatal(err)
	}
	h.clk.Advance(3 * time.Second)
	if err := svc.ProcessRefunds(h.ctx); err != nil { // attempt 1 FAILED: attempt 2 waits its backoff
		t.Fatal(err)
	}
	rs := h.refundRows(tr.ID())
	if len(rs) != 2 || rs[0].status != string(domain.RefundFailed) || rs[1].status != string(domain.RefundSubmitting) ||
		rs[1].cause != domain.FullRefundAttemptKey(tr.ID(), 2) || rs[1].amount != 5_000 {
		t.Fatalf("after the first failure: %+v", rs)
	}
	if got := h.trade(tr.ID()).RefundedFen(); got != 5_000 {
		t.Fatalf("trade holds %d refunded with the retry under way, want 5000", got)
	}
	// Before the backoff ends the retry is not sent.
	h.clk.Advance(10 * time.Second)
	if err := svc.ProcessRefunds(h.ctx); err != nil {
		t.Fatal(err)
	}
	if fc.sent[rs[1].id] != 0 {
		t.Fatal("retry sent before its backoff")
	}
	drain(h, svc)
	rs = h.refundRows(tr.ID())
	var succeeded int64
	for _, r := range rs {
		if r.status == string(domain.RefundSucceeded) {
			succeeded += r.amount
		}
	}
	if len(rs) != 3 || succeeded != 5_000 || rs[2].status != string(domain.RefundSucceeded) {
		t.Fatalf("refunds %+v, %d succeeded; want two FAILED then one SUCCEEDED of 5000", rs, succeeded)
	}
	if got := h.trade(tr.ID()).RefundedFen(); got != 5_000 {
		t.Fatalf("trade refunded %d", got)
	}
	if n := h.outbox(payevents.TopicRefundSucceeded, "O1"); n != 1 {
		t.Fatalf("%d refund events", n)
	}
}

// A channel that keeps failing gets AutoRefundAttempts attempts, then the
// refund is left FAILED (aftersales hands it to customer service), and
// nothing is due any more. Customer service's retry by hand sends
// whatever the trade holds once: the same key again is that retry, a
// second key finds nothing to retry, and ten agents at once make one.
func TestFailedFullRefundStopsAfterItsAttemptsAndCustomerServiceRetriesOnce(t *testing.T) {
	h := newHarness(t)
	svc, _ := failing(h, domain.AutoRefundAttempts)
	tr := cancelPaid(h, svc, "O1", 5_000)
	drain(h, svc)
	rs := h.refundRows(tr.ID())
	if len(rs) != domain.AutoRefundAttempts {
		t.Fatalf("%d attempts, want %d: %+v", len(rs), domain.AutoRefundAttempts, rs)
	}
	for _, r := range rs {
		if r.status != string(domain.RefundFailed) {
			t.Fatalf("attempt %+v not FAILED", r)
		}
	}
	if got := h.trade(tr.ID()).RefundedFen(); got != 0 {
		t.Fatalf("trade holds %d refunded after every attempt failed", got)
	}
	last := rs[len(rs)-1].id
	// A refund that did not fail cannot be retried; neither can a key be
	// used for another refund.
	if _, err := svc.RetryRefund(h.ctx, "", last); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("retry without a key: %v", err)
	}
	var wg sync.WaitGroup
	ids, keys := make([]string, 10), make([]string, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "cs-retry-1"
			if i%2 == 1 {
				key = "cs-retry-other-agent-" + string(rune('a'+i))
			}
			f, err := svc.RetryRefund(h.ctx, key, last)
			ids[i], keys[i], errs[i] = f.ID(), key, err
		}()
	}
	wg.Wait()
	made := map[string]bool{}
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil:
			made[ids[i]], winner = true, keys[i]
		case errors.Is(err, domain.ErrNothingToRetry):
		default:
			t.Fatalf("retry %d: %v", i, err)
		}
	}
	if len(made) != 1 {
		t.Fatalf("%d retries made by 10 agents at once, want 1: %v", len(made), errs)
	}
	if got := h.trade(tr.ID()).RefundedFen(); got != 5_000 {
		t.Fatalf("trade holds %d refunded with the retry under way", got)
	}
	drain(h, svc)
	var succeeded int64
	for _, r := range h.refundRows(tr.ID()) {
		if r.status == string(domain.RefundSucceeded) {
			succeeded += r.amount
		}
	}
	if succeeded != 5_000 {
		t.Fatalf("%d refunded after customer service's retry, want 5000", succeeded)
	}
	again, err := svc.RetryRefund(h.ctx, winner, last)
	if err != nil || !made[again.ID()] {
		t.Fatalf("the winning key replayed: %s, %v", again.ID(), err)
	}
	if _, err := svc.RetryRefund(h.ctx, "cs-retry-2", last); !errors.Is(err, domain.ErrNothingToRetry) {
		t.Fatalf("retry after the money came back: %v", err)
	}
	if _, err := svc.RetryRefund(h.ctx, winner, rs[0].id); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused for another refund: %v", err)
	}
}
