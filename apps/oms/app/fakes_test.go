package app_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// fakeInventory behaves like inventory: a catalog, sellable stock, and
// reservations idempotent by order id that hold stock until released, with
// tombstones for releases of unknown orders and a check-back.
type fakeInventory struct {
	mu           sync.Mutex
	clock        clock.Clock
	products     map[string]inventoryclient.Product
	stock        map[string]int64
	res          map[string]*inventoryclient.Reservation
	reserveCalls int
	releaseFails bool
	// afterReserve, when set, runs after a reservation was made and before
	// Reserve answers (outside the lock): a placement stalled there has
	// passed its deduction checks and holds stock, but has not committed.
	afterReserve func(orderID string)
	// fullSlots refuses reservations for these "TYPE date" slots with
	// SLOT_FULL naming WH-SH's; slots records every slot asked for.
	fullSlots map[string]bool
	slots     []*inventoryclient.Slot
}

func newFakeInventory(c clock.Clock) *fakeInventory {
	return &fakeInventory{clock: c, products: map[string]inventoryclient.Product{
		"SKU-A": {SKU: "SKU-A", Name: "Apples 1kg", PriceFen: 1000},
		"SKU-B": {SKU: "SKU-B", Name: "Frozen dumplings", PriceFen: 2550},
	}, stock: map[string]int64{"SKU-A": 100, "SKU-B": 100}, res: map[string]*inventoryclient.Reservation{}}
}

func (f *fakeInventory) Reserve(_ context.Context, r inventoryclient.ReserveRequest) (inventoryclient.Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reserveCalls++
	f.slots = append(f.slots, r.Slot)
	if sl := r.Slot; sl != nil && f.fullSlots[sl.Type+" "+sl.Date] {
		return inventoryclient.Reservation{}, httpapi.Errorf(http.StatusConflict, inventoryclient.CodeSlotFull, "full").
			With(map[string]any{"slots": []any{map[string]any{"warehouse": "WH-SH", "date": sl.Date, "type": sl.Type}}})
	}
	if ex, ok := f.res[r.OrderID]; ok {
		if ex.Status == inventoryclient.ReservationReleased {
			return inventoryclient.Reservation{}, httpapi.Errorf(http.StatusConflict, inventoryclient.CodeConflict, "released")
		}
		return f.withProducts(*ex, r.Lines), nil
	}
	var unknown []string
	changed := map[string]any{}
	for _, l := range r.Lines {
		p, ok := f.products[l.SKU]
		switch {
		case !ok:
			unknown = append(unknown, l.SKU)
		case r.Prices != nil && r.Prices[l.SKU] != p.PriceFen:
			changed[l.SKU] = float64(p.PriceFen) // as it arrives over the wire
		}
	}
	if len(unknown) > 0 {
		return inventoryclient.Reservation{}, httpapi.Errorf(http.StatusNotFound, inventoryclient.CodeUnknownSKU, "unknown").With(map[string]any{"skus": unknown})
	}
	if len(changed) > 0 {
		return inventoryclient.Reservation{}, httpapi.Errorf(http.StatusConflict, inventoryclient.CodePriceChanged, "price changed").With(map[string]any{"prices": changed})
	}
	var short []string
	for _, l := range r.Lines {
		if f.stock[l.SKU] < l.Qty {
			short = append(short, l.SKU)
		}
	}
	if len(short) > 0 {
		return inventoryclient.Reservation{}, httpapi.Errorf(http.StatusConflict, inventoryclient.CodeOutOfStock, "short").With(map[string]any{"skus": short})
	}
	for _, l := range r.Lines {
		f.stock[l.SKU] -= l.Qty
	}
	res := &inventoryclient.Reservation{OrderID: r.OrderID, Status: inventoryclient.ReservationHeld, Lines: r.Lines, ExpiresAt: f.clock.Now().Add(r.TTL)}
	f.res[r.OrderID] = res
	out := f.withProducts(*res, r.Lines)
	if hook := f.afterReserve; hook != nil {
		f.mu.Unlock()
		hook(r.OrderID)
		f.mu.Lock()
	}
	return out, nil
}

func (f *fakeInventory) withProducts(res inventoryclient.Reservation, lines []inventoryclient.Line) inventoryclient.Reservation {
	for _, l := range lines {
		res.Products = append(res.Products, f.products[l.SKU])
	}
	return res
}

func (f *fakeInventory) Release(_ context.Context, orderID string) (inventoryclient.Reservation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.releaseFails {
		return inventoryclient.Reservation{}, errors.New("inventory unreachable")
	}
	return f.releaseLocked(orderID), nil
}

func (f *fakeInventory) releaseLocked(orderID string) inventoryclient.Reservation {
	r, ok := f.res[orderID]
	if !ok {
		r = &inventoryclient.Reservation{OrderID: orderID, Status: inventoryclient.ReservationReleased}
		f.res[orderID] = r
		return *r
	}
	if r.Status != inventoryclient.ReservationReleased {
		for _, l := range r.Lines {
			f.stock[l.SKU] += l.Qty
		}
		r.Status = inventoryclient.ReservationReleased
	}
	return *r
}

// checkBack is inventory's check-back: held reservations past their TTL
// whose order does not exist are released.
func (f *fakeInventory) checkBack(ctx context.Context, exists func(context.Context, string) (app.Existence, error)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, r := range f.res {
		if r.Status != inventoryclient.ReservationHeld || f.clock.Now().Before(r.ExpiresAt) {
			continue
		}
		e, err := exists(ctx, id)
		if err != nil {
			return err
		}
		if e.Exists {
			r.Status = inventoryclient.ReservationConfirmed
		} else {
			f.releaseLocked(id)
		}
	}
	return nil
}

func (f *fakeInventory) available(sku string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stock[sku]
}

func (f *fakeInventory) status(orderID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.res[orderID]; ok {
		return r.Status
	}
	return ""
}

func (f *fakeInventory) reservations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.res)
}

type fakePay struct {
	mu       sync.Mutex
	d        map[string]payclient.Deduction
	trades   map[string]payclient.Trade
	reversed map[string]int // reversals per deduction, by sweep
	down     bool           // GetTrade fails as an unreachable PAY would
}

func (p *fakePay) GetTrade(_ context.Context, id string) (payclient.Trade, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return payclient.Trade{}, errors.New("pay unreachable")
	}
	t, ok := p.trades[id]
	if !ok {
		return payclient.Trade{}, httpapi.Errorf(http.StatusNotFound, payclient.CodeNotFound, "no trade %s", id)
	}
	return t, nil
}

// sweep is PAY's deduction sweep: every HELD deduction OMS says no order
// uses is reversed (once: a reversed deduction is no longer HELD).
func (p *fakePay) sweep(ctx context.Context, exists func(context.Context, string) (app.Existence, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, d := range p.d {
		if d.Status != payclient.DeductionHeld {
			continue
		}
		e, err := exists(ctx, id)
		if err != nil {
			return err
		}
		if e.Exists {
			d.Status = payclient.DeductionUsed
		} else {
			d.Status = payclient.DeductionReversed
			if p.reversed == nil {
				p.reversed = map[string]int{}
			}
			p.reversed[id]++
		}
		p.d[id] = d
	}
	return nil
}

func (p *fakePay) reversals(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reversed[id]
}

func (p *fakePay) GetDeduction(_ context.Context, id string) (payclient.Deduction, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.d[id]
	if !ok {
		return payclient.Deduction{}, httpapi.Errorf(http.StatusNotFound, payclient.CodeNotFound, "no deduction %s", id)
	}
	return d, nil
}

type fakeReminders struct {
	mu    sync.Mutex
	armed map[string]time.Time
}

func (r *fakeReminders) Arm(_ context.Context, id string, payBy time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed[id] = payBy
	return nil
}

func (r *fakeReminders) armedAt(id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.armed[id]
	return t, ok
}

// failingCommit is the real repository whose Create fails after the
// reservation was made, as a crash or a lost database would.
type failingCommit struct{ app.Repository }

func (failingCommit) Create(context.Context, *domain.Order, app.Idempotency, []outbox.Event) error {
	return errors.New("connection lost during commit")
}
