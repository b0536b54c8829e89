package load

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
)

// MarketplaceStageBaseline measures the raw MariaDB insert rate of the
// staging rows a pushed order writes, with no HTTP, signature, nonce,
// sidecar or broker in front: channels' own store stages groups of group
// made-up orders (the very transaction the push endpoint's group writer
// runs: process rows with INSERT IGNORE and the read-back that tells
// first arrivals from repeats, header, lines, step and outbox row) from
// workers at once. Ops counts orders staged.
func MarketplaceStageBaseline(ctx context.Context, server string, workers, group int, d time.Duration) (Rate, error) {
	db, drop, err := scratchDB(ctx, server, "channels", workers)
	if err != nil {
		return Rate{}, err
	}
	defer drop()
	st := store.New(db)
	var next atomic.Int64
	today := time.Now().In(platforms.Shanghai).Format(time.DateOnly)
	r := Closed(ctx, fmt.Sprintf("baseline: staging rows, groups of %d", group), workers, d, func(ctx context.Context, _ int, _ int64) error {
		items := make([]*store.Item, group)
		now := time.Now().UTC()
		for i := range items {
			o := platforms.Order{Platform: platforms.Yuedian, PlatformOrderID: fmt.Sprintf("B%09d", next.Add(1)), ShopID: "SHOP-1",
				Receiver: platforms.Receiver{Name: "Han Meimei", Phone: "13900139000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "88 Century Ave"},
				SlotType: platforms.SlotExpress, SlotDate: today, TotalFen: 7998, PlatformTime: now,
				Lines: []platforms.Line{{PlatformSKU: "YD-SKU-00010", Qty: 1, UnitPriceFen: 3999}, {PlatformSKU: "YD-SKU-00011", Qty: 1, UnitPriceFen: 3999}}}
			o.Raw = platforms.YuedianOrderBody(o)
			items[i] = &store.Item{Order: o, Way: platforms.WayPush, At: now}
		}
		return st.Stage(ctx, items)
	})
	r.Ops *= int64(group)
	return r, nil
}
