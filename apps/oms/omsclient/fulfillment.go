package omsclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// StatusDispatched: every delivery order of the order was handed to its
// warehouse or drop-ship supplier (fulfillment stage 16).
const StatusDispatched = "DISPATCHED"

// Error codes of the fulfillment operations.
const (
	CodeNoFulfillment  = "FULFILLMENT_NOT_FOUND" // the order has not entered fulfillment
	CodeNothingToRetry = "NOTHING_TO_RETRY"      // no unit of the order is in the exception queue
)

// Fulfillment unit states.
const (
	UnitReady     = "READY"
	UnitRunning   = "RUNNING"
	UnitPaused    = "PAUSED"
	UnitFailed    = "FAILED"
	UnitSplit     = "SPLIT"
	UnitDone      = "DONE"
	UnitCancelled = "CANCELLED"
)

// StageCount is how many orders (delivery orders from stage 11 on) stand
// at one fulfillment stage.
type StageCount struct {
	Stage   int    `json:"stage"` // 1..16
	Name    string `json:"name"`  // initial, exception_check, ..., dispatch
	Kind    string `json:"kind"`  // IO or CPU
	Waiting int64  `json:"waiting"`
	Running int64  `json:"running"`
	Paused  int64  `json:"paused"`
	Failed  int64  `json:"failed"`
}

// FulfillmentUnit is the order itself (stages 1-10) or one of its
// delivery orders (stages 11-16).
type FulfillmentUnit struct {
	ID         string    `json:"id"`
	ParentID   string    `json:"parent_id,omitempty"`
	Stage      int       `json:"stage"`
	StageName  string    `json:"stage_name"`
	State      string    `json:"state"`
	ResumeAt   time.Time `json:"resume_at"`
	Attempts   int       `json:"attempts"`
	FailCode   string    `json:"fail_code,omitempty"`
	FailReason string    `json:"fail_reason,omitempty"`
	Warehouse  string    `json:"warehouse,omitempty"`
	Supplier   string    `json:"supplier,omitempty"`
	WaybillNo  string    `json:"waybill_no,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// FulfillmentStep is one run of a stage.
type FulfillmentStep struct {
	UnitID     string    `json:"unit_id"`
	Stage      int       `json:"stage"`
	StageName  string    `json:"stage_name"`
	Outcome    string    `json:"outcome"` // STARTED, NEXT, PAUSE, RETRY, FAIL, CANCEL, CREATED, RETRIED
	Note       string    `json:"note,omitempty"`
	Owner      string    `json:"owner,omitempty"`
	At         time.Time `json:"at"`
	DurationMS float64   `json:"duration_ms"`
}

// FulfillmentTimeline is an order's fulfillment.
type FulfillmentTimeline struct {
	OrderID string            `json:"order_id"`
	Units   []FulfillmentUnit `json:"units"`
	Steps   []FulfillmentStep `json:"steps"`
}

// RetryRequest retries an order's failed fulfillment.
type RetryRequest struct {
	Operator string `json:"operator"`
}

// RetryResult says how many units went back to their stage.
type RetryResult struct {
	Retried int `json:"retried"`
}

// WarehouseCapacity is a warehouse's order capacity on one Shanghai day.
type WarehouseCapacity struct {
	Warehouse string `json:"warehouse"`
	Day       string `json:"day"` // YYYY-MM-DD
	Capacity  int    `json:"capacity"`
	Used      int    `json:"used"`
}

// FulfillmentSuspension is the operators' switch of the whole pipeline:
// while suspended no OMS instance takes a unit to a stage; paid orders
// still enter fulfillment and wait.
type FulfillmentSuspension struct {
	Suspended bool      `json:"suspended"`
	Reason    string    `json:"reason,omitempty"`
	Operator  string    `json:"operator,omitempty"` // who switched it last
	Since     time.Time `json:"since"`              // when; zero if never
}

// SuspensionRequest suspends (with a reason) or resumes the pipeline.
type SuspensionRequest struct {
	Suspended bool   `json:"suspended"`
	Reason    string `json:"reason,omitempty"`
	Operator  string `json:"operator,omitempty"`
}

// FulfillmentSuspension reads the pipeline's switch.
func (c *Client) FulfillmentSuspension(ctx context.Context) (FulfillmentSuspension, error) {
	var out FulfillmentSuspension
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/fulfillment/suspension", nil, &out)
	return out, err
}

// SetFulfillmentSuspension suspends or resumes the pipeline.
func (c *Client) SetFulfillmentSuspension(ctx context.Context, r SuspensionRequest) (FulfillmentSuspension, error) {
	var out FulfillmentSuspension
	err := c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/fulfillment/suspension", r, &out)
	return out, err
}

// FulfillmentStages counts orders per stage and state.
func (c *Client) FulfillmentStages(ctx context.Context) ([]StageCount, error) {
	var out struct {
		Stages []StageCount `json:"stages"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/fulfillment/stages", nil, &out)
	return out.Stages, err
}

// FulfillmentTimeline returns an order's fulfillment timeline.
func (c *Client) FulfillmentTimeline(ctx context.Context, orderID string) (FulfillmentTimeline, error) {
	var t FulfillmentTimeline
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/orders/"+url.PathEscape(orderID)+"/fulfillment", nil, &t)
	return t, err
}

// RetryFulfillment sends an order's failed units back to their stage.
func (c *Client) RetryFulfillment(ctx context.Context, orderID string, r RetryRequest) (RetryResult, error) {
	var out RetryResult
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/orders/"+url.PathEscape(orderID)+"/fulfillment/retry", r, &out)
	return out, err
}

// WarehouseCapacities lists the warehouses' capacities of a day.
func (c *Client) WarehouseCapacities(ctx context.Context, day string) ([]WarehouseCapacity, error) {
	var out struct {
		Items []WarehouseCapacity `json:"items"`
	}
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/warehouse-capacities?day="+url.QueryEscape(day), nil, &out)
	return out.Items, err
}

// SetWarehouseCapacity sets a warehouse's capacity of a day.
func (c *Client) SetWarehouseCapacity(ctx context.Context, r WarehouseCapacity) (WarehouseCapacity, error) {
	var out WarehouseCapacity
	err := c.inv.Invoke(ctx, AppID, http.MethodPut, "v1/warehouse-capacities", r, &out)
	return out, err
}
