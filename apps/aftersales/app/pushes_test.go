package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/store"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// receiver stands in for a push's receiver: it deduplicates by push id
// (as partners does) and records, per order, the order in which it first
// took each push.
type receiver struct {
	mu        sync.Mutex
	seen      map[string]int   // push id -> deliveries
	order     map[string][]int // order -> payload seq, in first-delivery order
	inFlight  map[string]bool  // order -> a delivery under way
	overlap   bool             // two deliveries of one order at once
	failFirst map[string]bool  // push id -> fail its first attempt
	failed    map[string]bool
}

func newReceiver() *receiver {
	return &receiver{seen: map[string]int{}, order: map[string][]int{}, inFlight: map[string]bool{}, failFirst: map[string]bool{},
		failed: map[string]bool{}}
}

func (r *receiver) deliver(_ context.Context, p domain.Push) (app.Delivery, error) {
	var body struct{ Seq int }
	_ = json.Unmarshal(p.Payload, &body)
	r.mu.Lock()
	if r.inFlight[p.OrderID] {
		r.overlap = true
	}
	r.inFlight[p.OrderID] = true
	r.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[p.OrderID] = false
	if r.failFirst[p.ID] && !r.failed[p.ID] {
		r.failed[p.ID] = true
		return app.Delivery{}, errors.New("receiver unavailable")
	}
	r.seen[p.ID]++
	if r.seen[p.ID] == 1 {
		r.order[p.OrderID] = append(r.order[p.OrderID], body.Seq)
	}
	return app.Delivery{Result: "ok"}, nil
}

func pushStore(t testing.TB) *store.Store {
	t.Helper()
	db, _ := testdb.New(t, "aftersales")
	db.SetMaxOpenConns(32)
	return store.New(db)
}

func push(t *testing.T, typ domain.PushType, order string, seq int) domain.NewPush {
	t.Helper()
	p, err := domain.MakePush(ids.New(), typ, order, "R-"+order, map[string]int{"Seq": seq})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Pushes written by concurrent transactions for 20 orders reach their
// receiver once each and, per order, in commit order, with a worker
// delivering 8 orders at once; a failed push holds its order's later
// pushes back until it goes through. Two replicas' workers share the table.
func TestPushesDeliveredOncePerOrderInCommitOrder(t *testing.T) {
	st := pushStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := newReceiver()
	var replicas []*app.Pushers
	for range 2 {
		ps := app.NewPushers(st, app.PushOptions{Poll: 20 * time.Millisecond})
		ps.Handle(domain.PushWMSReturn, 8, rc.deliver)
		replicas = append(replicas, ps)
		go ps.Run(ctx)
	}
	const orders, each = 20, 10
	var wg sync.WaitGroup
	for o := range orders {
		wg.Go(func() {
			order := fmt.Sprintf("O%02d", o)
			for i := range each {
				p := push(t, domain.PushWMSReturn, order, i)
				if i == 3 {
					rc.mu.Lock()
					rc.failFirst[p.ID] = true
					rc.mu.Unlock()
				}
				if err := st.AddPushes(ctx, time.Now().UTC(), p); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, ps := range replicas {
		ps.Wake()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rc.mu.Lock()
		n := len(rc.seen)
		rc.mu.Unlock()
		var done int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM pushes WHERE status='DONE'`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if n == orders*each && done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d pushes delivered", n, orders*each)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, n := range rc.seen {
		if n != 1 {
			t.Fatalf("push %s taken %d times", id, n)
		}
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for o, got := range rc.order {
		if !slices.Equal(got, want) {
			t.Fatalf("order %s delivered %v, want commit order %v", o, got, want)
		}
	}
	if rc.overlap {
		t.Fatal("two pushes of one order were in delivery at once")
	}
}

// A worker dies mid-delivery: the receiver has taken the push, the worker
// never records it. Its lease runs out, another replica's worker delivers
// it again, the receiver answers its first result (deduplicated by push
// id), and the pushes it calls for are written once, even when the first
// worker comes back to life and finishes late.
func TestPushWorkerKilledMidDelivery(t *testing.T) {
	st := pushStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	took := map[string]int{}
	hang := make(chan struct{})
	receive := func(p domain.Push) app.Delivery {
		mu.Lock()
		took[p.ID]++
		mu.Unlock()
		follow, _ := domain.MakePush(p.ID+"-F", domain.PushStockRestore, p.OrderID, p.RequestID, map[string]string{"after": p.ID})
		return app.Delivery{Result: "receipt of " + p.ID, Follow: []domain.NewPush{follow}}
	}
	dying := app.NewPushers(st, app.PushOptions{Timeout: 200 * time.Millisecond, Lease: 300 * time.Millisecond})
	dying.Handle(domain.PushWMSReturn, 1, func(_ context.Context, p domain.Push) (app.Delivery, error) {
		d := receive(p)
		<-hang // dead: never answers within its lease
		return d, nil
	})
	p := push(t, domain.PushWMSReturn, "O1", 0)
	if err := st.AddPushes(ctx, time.Now().UTC(), p); err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	go func() { _, err := dying.Pass(ctx, domain.PushWMSReturn); firstDone <- err }()
	for {
		mu.Lock()
		n := took[p.ID]
		mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// While the lease holds, the other replica leaves it alone.
	other := app.NewPushers(st, app.PushOptions{Timeout: time.Second})
	other.Handle(domain.PushWMSReturn, 4, func(_ context.Context, p domain.Push) (app.Delivery, error) { return receive(p), nil })
	if n, err := other.Pass(ctx, domain.PushWMSReturn); n != 0 || err != nil {
		t.Fatalf("leased push taken: %d %v", n, err)
	}
	time.Sleep(350 * time.Millisecond)
	if n, err := other.Pass(ctx, domain.PushWMSReturn); n != 1 || err != nil {
		t.Fatalf("after the lease: %d %v", n, err)
	}
	close(hang) // the first worker wakes up and finishes late
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	got, err := st.GetPush(ctx, p.ID)
	if err != nil || got.Status != domain.PushDone || got.Attempts != 2 {
		t.Fatalf("push after the redelivery: %+v %v", got, err)
	}
	var follows int
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM pushes WHERE type='STOCK_RESTORE'`).Scan(&follows); err != nil || follows != 1 {
		t.Fatalf("%d follow-up pushes (%v), want 1", follows, err)
	}
	if took[p.ID] != 2 {
		t.Fatalf("receiver saw %d deliveries, want 2 (at least once)", took[p.ID])
	}
}
