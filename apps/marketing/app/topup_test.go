package app_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
)

// A goods-gift campaign's stock is topped up once per key, even by ten
// concurrent retries; bad input and an ended campaign are refused with
// nothing changed.
func TestGiftStockTopUp(t *testing.T) {
	e := newWallet(t)
	svc := app.New(e.st, e.clk, nil)
	c, err := svc.CreateCampaign(e.ctx, "", domain.CampaignSpec{Name: "gift", StartsAt: w0.Add(-time.Hour), EndsAt: w0.Add(time.Hour),
		Gift: domain.Gift{SKU: "SKU-00001", QtyPerOrder: 1, Stock: 10}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := svc.TopUpGiftStock(e.ctx, c.ID(), "top-1", 5); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := svc.Campaign(e.ctx, c.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Gift().Stock != 15 || got.StockLeft() != 15 {
		t.Fatalf("after ten retries of one top-up of 5: stock %d, left %d; want 15, 15", got.Gift().Stock, got.StockLeft())
	}
	for _, tc := range []struct {
		name, id, key string
		units         int64
		want          error
	}{
		{"key reused with other units", c.ID(), "top-1", 6, domain.ErrKeyReused},
		{"no key", c.ID(), " ", 5, domain.ErrValidation},
		{"no units", c.ID(), "top-2", 0, domain.ErrValidation},
		{"too many units", c.ID(), "top-2", app.MaxTopUp + 1, domain.ErrValidation},
		{"unknown campaign", "01J00000000000000000000000", "top-2", 5, domain.ErrNotFound},
	} {
		if _, err := svc.TopUpGiftStock(e.ctx, tc.id, tc.key, tc.units); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	e.clk.Advance(2 * time.Hour)
	if _, err := svc.TopUpGiftStock(e.ctx, c.ID(), "top-3", 5); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("top-up of an ended campaign: %v", err)
	}
	if got, _ := svc.Campaign(e.ctx, c.ID()); got.Gift().Stock != 15 || got.StockLeft() != 15 {
		t.Fatalf("refusals changed the stock: %d, %d", got.Gift().Stock, got.StockLeft())
	}
}
