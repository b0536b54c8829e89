// Package marketingclient is the typed client for marketing: here, the goods
// gifts that fulfillment stage 3 adds to qualifying orders (DOMAIN 3.1–3.2).
package marketingclient

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/money"
)

// AppID is marketing's Dapr app id.
const AppID = "marketing"

// BatchRoutes are the routes marketing serves in batches
// (runtime.AllowBatch) and a busy caller may send in batches
// (daprx.Invoker.Batch): the gifts an order qualifies for, idempotent by
// order id (fulfillment asks once per order). Pop-up claims batch by a
// route of their own (claims.go), which Dapr's access control grants the
// gateway alone.
var BatchRoutes = []string{"POST v1/gifts/grants"}

// OrderLine is a line of the order being evaluated.
type OrderLine struct {
	SKU       string    `json:"sku"`
	Qty       int64     `json:"qty"`
	AmountFen money.Fen `json:"amount_fen"`
}

// GiftQuery asks which goods gifts an order qualifies for.
type GiftQuery struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	GoodsFen   money.Fen   `json:"goods_fen"`
	Lines      []OrderLine `json:"lines"`
	PlacedAt   time.Time   `json:"placed_at"`
}

// GiftGrant is one gift granted to an order. Grants are recorded per
// (campaign, order): asking again for the same order returns the same grants
// and takes no second unit of gift stock.
type GiftGrant struct {
	CampaignID string `json:"campaign_id"`
	SKU        string `json:"sku"`
	Qty        int64  `json:"qty"`
}

// Invoker is Dapr service invocation as the client uses it
// (*daprx.Invoker; tests pass an in-process one).
type Invoker interface {
	Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error
}

var _ Invoker = (*daprx.Invoker)(nil)

// Client calls marketing.
type Client struct {
	inv        Invoker
	claimsOnce sync.Once
	claims     *claimQueue
}

// New returns a client that goes through the caller's sidecar.
func New(inv Invoker) *Client { return &Client{inv: inv} }

// GiftsFor evaluates the active goods-gift campaigns for an order and
// grants what it qualifies for (possibly nothing).
func (c *Client) GiftsFor(ctx context.Context, q GiftQuery) ([]GiftGrant, error) {
	var out struct {
		Grants []GiftGrant `json:"grants"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/gifts/grants", q, &out)
	return out.Grants, err
}
