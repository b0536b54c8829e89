package fulfillment

import (
	"context"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/ids"
)

// Stage 1's message fits the order's source: a paid order gets ORDER_PAID
// and the PAYMENT_SUCCEEDED pushes; a reissue or exchange, unpaid, gets
// none (stage 14 texts REISSUE_CREATED or EXCHANGE_CREATED); a pull-back's
// order, paid through the order it replaces, gets PULL_BACK_CREATED naming
// that order, never ORDER_PAID.
func TestInitialMessageFitsTheSource(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	en := e.engine("a", nil)
	paid := e.place(orderSpec{lines: map[string]int64{"milk": 1}})
	reissue := e.place(orderSpec{source: "REISSUE", lines: map[string]int64{"milk": 1}})
	exchange := e.place(orderSpec{source: "EXCHANGE", lines: map[string]int64{"milk": 1}})
	orig, err := e.st.Get(ctx, e.place(orderSpec{lines: map[string]int64{"milk": 2}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := orig.EndForPullBack(e.clk.Now(), "pull-back [D1]", false); err != nil {
		t.Fatal(err)
	}
	pb, err := domain.NewPullBackOrder(ids.New(), orig, domain.PullBackChange{}, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.HandOverDeductionsTx(ctx, tx, orig.ID()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateTx(ctx, tx, pb, app.Idempotency{CustomerID: pb.CustomerID(), Key: pb.ID(), RequestHash: "h", OrderID: pb.ID(), CreatedAt: e.clk.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	stop := e.run(en)
	defer stop()
	for _, id := range []string{paid, reissue, exchange, pb.ID()} {
		e.start(en, id)
	}
	e.waitFor("dispatch", 20*time.Second, e.dispatched(paid, reissue, exchange, pb.ID()))
	e.world.mu.Lock()
	defer e.world.mu.Unlock()
	sent := func(kind, id string) int { return e.world.perID[kind+"|"+id] }
	for _, c := range []struct {
		name, id, sms string
		pushes        bool
	}{
		{"paid", paid, "ORDER_PAID", true},
		{"reissue", reissue, "", false},
		{"exchange", exchange, "", false},
		{"pull-back", pb.ID(), "PULL_BACK_CREATED", true},
	} {
		for _, tpl := range []string{"ORDER_PAID", "PULL_BACK_CREATED"} {
			want := 0
			if tpl == c.sms {
				want = 1
			}
			if got := sent("sms:"+tpl, c.id+":initial:sms"); got != want {
				t.Errorf("%s: %s SMS sent %d times, want %d", c.name, tpl, got, want)
			}
		}
		for _, ch := range []string{"OFFICIAL_ACCOUNT", "MINI_PROGRAM"} {
			if got := sent("push:"+ch, c.id+":initial:push:"+ch); (got == 1) != c.pushes {
				t.Errorf("%s: %s push sent %d times, want it %v", c.name, ch, got, c.pushes)
			}
		}
	}
	if sent("sms:REISSUE_CREATED", reissue+":reissue:sms") != 1 || sent("sms:EXCHANGE_CREATED", exchange+":reissue:sms") != 1 {
		t.Errorf("stage 14 did not announce the reissue and the exchange once: %v", e.world.perID)
	}
}
