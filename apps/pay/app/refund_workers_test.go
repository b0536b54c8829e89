package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/pay/store"
)

// countingChannel is the channel stand-in seen through its adapter,
// counting the refunds submitted to it per refund id; a submission takes a
// while, as a call through Dapr does, so concurrent workers overlap.
type countingChannel struct {
	channel.Adapter
	mu        *sync.Mutex
	submitted map[string]int
}

func (c countingChannel) Refund(ctx context.Context, r channel.RefundRequest) (channel.RefundResult, error) {
	c.mu.Lock()
	c.submitted[r.RefundNo]++
	c.mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	return c.Adapter.Refund(ctx, r)
}

// Two PAY replicas on one database, each moving due refunds 8 at a time,
// drain a burst of cancels' full refunds: every refund is submitted to the
// channel exactly once and ends SUCCEEDED.
func TestConcurrentRefundWorkersSubmitEachRefundOnce(t *testing.T) {
	h := newHarness(t)
	const orders = 30
	for i := range orders {
		h.startAndPay("WECHAT", fmt.Sprintf("O%d", i), 1_000)
	}
	if err := h.partners.Tick(h.ctx); err != nil { // callbacks → SUCCEEDED
		t.Fatal(err)
	}
	for i := range orders {
		id := fmt.Sprintf("O%d", i)
		h.atOMS(id, omsclient.StatusCancelled)
		if err := h.svc.OnOrderCancelled(h.ctx, "cancel-"+id, omsevents.OrderCancelled{OrderID: id, Reason: omsevents.ReasonExpired}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds WHERE status=?`, domain.RefundSubmitting); n != orders {
		t.Fatalf("%d refunds to submit, want %d", n, orders)
	}
	var mu sync.Mutex
	submitted := map[string]int{}
	replica := func() *app.Service {
		chans := map[string]channel.Adapter{}
		for name, ad := range h.chans {
			chans[name] = countingChannel{Adapter: ad, mu: &mu, submitted: submitted}
		}
		return app.New(store.New(h.db), h.oms, nil, chans, h.inv, h.clk, nil, nil,
			app.Config{FinanceApp: "partners", RefundConcurrency: 8})
	}
	replicas := []*app.Service{replica(), replica()}
	for range 6 {
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.ProcessRefunds(h.ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		h.clk.Advance(3 * time.Second) // the channel pays a refund back 2 s after it took it
	}
	if n := h.count(`SELECT COUNT(*) FROM refunds WHERE status=?`, domain.RefundSucceeded); n != orders {
		t.Fatalf("%d of %d refunds SUCCEEDED", n, orders)
	}
	if len(submitted) != orders {
		t.Fatalf("%d refunds submitted, want %d", len(submitted), orders)
	}
	for id, n := range submitted {
		if n != 1 {
			t.Errorf("refund %s submitted %d times", id, n)
		}
	}
}
