package marketingclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Error codes marketing answers with (httpapi.Problem.Code).
const (
	CodeValidation    = "VALIDATION_FAILED"
	CodeNotFound      = "NOT_FOUND"
	CodeKeyReused     = "IDEMPOTENCY_KEY_REUSED" // same key or order id, other input
	CodeMalformedFile = "MALFORMED_FILE"         // candidate file unreadable; nothing imported
	CodeUnsupported   = "UNSUPPORTED_MEDIA_TYPE"
	CodeTooLarge      = "FILE_TOO_LARGE"
)

// XLSXContentType is the content type of a candidate file upload.
const XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Conditions an order must meet for a campaign's gift.
type Conditions struct {
	MinGoodsFen  money.Fen `json:"min_goods_fen"`
	RequiredSKUs []string  `json:"required_skus,omitempty"`
}

// Gift is the goods a qualifying order receives; Stock is the total units.
type Gift struct {
	SKU         string `json:"sku"`
	QtyPerOrder int64  `json:"qty_per_order"`
	Stock       int64  `json:"stock"`
}

// CreateCampaignRequest creates a goods-gift campaign: window, conditions,
// excluded customers and gift, stored together. The candidate list is
// imported afterwards from an .xlsx file.
type CreateCampaignRequest struct {
	IdempotencyKey    string     `json:"idempotency_key,omitempty"`
	Name              string     `json:"name"`
	StartsAt          time.Time  `json:"starts_at"`
	EndsAt            time.Time  `json:"ends_at"`
	Conditions        Conditions `json:"conditions"`
	ExcludedCustomers []string   `json:"excluded_customers,omitempty"`
	Gift              Gift       `json:"gift"`
}

// Campaign is a goods-gift campaign as marketing holds it.
type Campaign struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	StartsAt          time.Time  `json:"starts_at"`
	EndsAt            time.Time  `json:"ends_at"`
	Phase             string     `json:"phase"` // SCHEDULED, ACTIVE, ENDED
	Conditions        Conditions `json:"conditions"`
	ExcludedCustomers []string   `json:"excluded_customers,omitempty"` // only when reading one campaign
	Gift              Gift       `json:"gift"`
	GiftStockLeft     int64      `json:"gift_stock_left"`
	Candidates        int64      `json:"candidates"`
	CreatedAt         time.Time  `json:"created_at"`
}

// CampaignPage is one page of campaigns, newest first.
type CampaignPage struct {
	Items      []Campaign `json:"items"`
	NextBefore string     `json:"next_before,omitempty"` // pass as before for the next page
}

// InvalidRow is a candidate-file row that names no usable customer id.
type InvalidRow struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// ImportReport is the answer to a candidate import (POST
// /v1/campaigns/{id}/candidates with the .xlsx file as the body).
type ImportReport struct {
	ImportID      string       `json:"import_id"`
	CampaignID    string       `json:"campaign_id"`
	DataRows      int          `json:"data_rows"`
	Imported      int64        `json:"imported"`
	Duplicates    int64        `json:"duplicates"`     // DuplicateRows plus AlreadyListed
	DuplicateRows []int        `json:"duplicate_rows"` // rows repeating an id earlier in the file
	AlreadyListed int64        `json:"already_listed"` // ids the list held before
	InvalidRows   []InvalidRow `json:"invalid_rows"`
	Candidates    int64        `json:"candidates"` // list size after the import
}

// CreateCampaign creates a campaign (idempotent by IdempotencyKey when set).
func (c *Client) CreateCampaign(ctx context.Context, r CreateCampaignRequest) (Campaign, error) {
	var out Campaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/campaigns", r, &out)
}

// Campaigns lists campaigns newest first; before is CampaignPage.NextBefore.
func (c *Client) Campaigns(ctx context.Context, before string, limit int) (CampaignPage, error) {
	q := url.Values{}
	q.Set("before", before)
	q.Set("limit", strconv.Itoa(limit))
	var out CampaignPage
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/campaigns?"+q.Encode(), nil, &out)
}

// Campaign returns one campaign with its excluded customers.
func (c *Client) Campaign(ctx context.Context, id string) (Campaign, error) {
	var out Campaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/campaigns/"+url.PathEscape(id), nil, &out)
}

// TopUpRequest adds units to a campaign's gift stock, once per key.
type TopUpRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	Units          int64  `json:"units"`
}

// TopUpGiftStock adds to a campaign's gift stock.
func (c *Client) TopUpGiftStock(ctx context.Context, id string, r TopUpRequest) (Campaign, error) {
	var out Campaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/campaigns/"+url.PathEscape(id)+"/stock", r, &out)
}

// BodyInvoker sends a body that is not JSON (*daprx.Invoker).
type BodyInvoker interface {
	InvokeBody(ctx context.Context, app, httpMethod, method, contentType string, body []byte, out any) error
}

// ImportCandidates imports a candidate list from an .xlsx file.
func (c *Client) ImportCandidates(ctx context.Context, id string, file []byte) (ImportReport, error) {
	var out ImportReport
	bi, ok := c.inv.(BodyInvoker)
	if !ok {
		return out, fmt.Errorf("import candidates: the invoker %T sends JSON only", c.inv)
	}
	return out, bi.InvokeBody(ctx, AppID, http.MethodPost, "v1/campaigns/"+url.PathEscape(id)+"/candidates", XLSXContentType, file, &out)
}
