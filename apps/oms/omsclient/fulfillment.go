package omsclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// StatusDispatched: every delivery order of the order was handed to its
// warehouse or drop-ship supplier (fulfillment stage dispatch).
const StatusDispatched = "DISPATCHED"

// Error codes of the fulfillment operations.
const (
	CodeNoFulfillment  = "FULFILLMENT_NOT_FOUND"  // the order has not entered fulfillment
	CodeNothingToRetry = "NOTHING_TO_RETRY"       // no unit of the order is in the exception queue
	CodeNotPaused      = "FULFILLMENT_NOT_PAUSED" // resume of an order that is not paused
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
	UnitHeld      = "HELD" // the order is paused (PauseFulfillment)
)

// StageCount is how many orders (delivery orders from the waybill stage
// on) stand at one fulfillment stage.
type StageCount struct {
	Stage   string `json:"stage"`  // the stage's name: initial, exception_check, ..., dispatch
	Number  int    `json:"number"` // its place in the pipeline, from 1
	Name    string `json:"name"`   // the stage's name, as Stage
	Kind    string `json:"kind"`   // IO or CPU
	Waiting int64  `json:"waiting"`
	Running int64  `json:"running"`
	Paused  int64  `json:"paused"`
	Failed  int64  `json:"failed"`
	Held    int64  `json:"held"` // their order is paused
}

// FulfillmentUnit is the order itself (the stages up to effective_time)
// or one of its delivery orders (the stages from waybill on).
type FulfillmentUnit struct {
	ID         string    `json:"id"`
	ParentID   string    `json:"parent_id,omitempty"`
	Stage      string    `json:"stage"`      // the stage's name
	StageName  string    `json:"stage_name"` // as Stage
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
	Stage      string    `json:"stage"`      // the stage's name
	StageName  string    `json:"stage_name"` // as Stage
	Outcome    string    `json:"outcome"`    // STARTED, NEXT, PAUSE, RETRY, FAIL, CANCEL, CREATED, RETRIED, HELD, RELEASED
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

// PauseRequest pauses one order's fulfillment for another app.
type PauseRequest struct {
	IdempotencyKey string `json:"idempotency_key"` // required; recorded in the timeline
	Reason         string `json:"reason"`          // required
	By             string `json:"by,omitempty"`    // the calling app or operator
}

// OrderPause is where a paused order stands.
type OrderPause struct {
	OrderID string `json:"order_id"`
	// Paused is false when the order was paused already (a repeated call).
	Paused bool `json:"paused"`
	// Stage is the stage the order's own unit stands at; "" once it split
	// into delivery orders (Units has theirs).
	Stage string            `json:"stage,omitempty"`
	Units []FulfillmentUnit `json:"units"`
	// Dispatched are the delivery orders that reached their warehouse (or
	// drop-ship supplier).
	Dispatched []string `json:"dispatched"`
	// InDispatch are the delivery orders a worker had in hand when the
	// pause came, not recorded as dispatched: the warehouse may have them
	// (ask WMS by delivery order id); resumed, the hand-over is repeated.
	InDispatch []string `json:"in_dispatch"`
}

// ResumeRequest resumes a paused order.
type ResumeRequest struct {
	By string `json:"by,omitempty"`
}

// ResumeResult says how many units went on.
type ResumeResult struct {
	Resumed int `json:"resumed"`
}

// PauseFulfillment pauses one order's fulfillment: its units stop where
// they stand (one a worker runs commits nothing more) until
// ResumeFulfillment. Repeating it changes nothing.
func (c *Client) PauseFulfillment(ctx context.Context, orderID string, r PauseRequest) (OrderPause, error) {
	var out OrderPause
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/fulfillment/orders/"+url.PathEscape(orderID)+"/pause", r, &out)
	return out, err
}

// ResumeFulfillment lets a paused order go on from where it stopped.
func (c *Client) ResumeFulfillment(ctx context.Context, orderID string, r ResumeRequest) (ResumeResult, error) {
	var out ResumeResult
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/fulfillment/orders/"+url.PathEscape(orderID)+"/resume", r, &out)
	return out, err
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
	err := c.inv.Invoke(ctx, AppID, http.MethodGet, c.orders+"/"+url.PathEscape(orderID)+"/fulfillment", nil, &t)
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

// CodeReachedWarehouse: a delivery order of the order reached its
// warehouse (or was being handed over) and was not intercepted there;
// Details["delivery_orders"] names them. Nothing was cancelled.
const CodeReachedWarehouse = "REACHED_WAREHOUSE"

// CancelPausedRequest cancels a paused paid order for the reverse flow.
type CancelPausedRequest struct {
	IdempotencyKey string `json:"idempotency_key"` // required; recorded in the timeline
	Reason         string `json:"reason"`          // required
	By             string `json:"by,omitempty"`
	// Intercepted are the delivery orders WMS intercepted (or tombstoned):
	// every one that reached a warehouse must be among them.
	Intercepted []string `json:"intercepted,omitempty"`
}

// ReverseCancel is OMS's answer to CancelPaused.
type ReverseCancel struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	// Already: the order was cancelled before (a repeated call).
	Already        bool `json:"already"`
	CancelledUnits int  `json:"cancelled_units"`
}

// CancelPaused cancels a paid order whose fulfillment PauseFulfillment
// paused (or that never entered it): its held units end CANCELLED and the
// order CANCELLED with oms.order.cancelled, on which PAY refunds what it
// took. CodeNotPaused when a unit still runs, CodeReachedWarehouse when a
// delivery order reached a warehouse without interception,
// CodeNotCancellable when the order is past that. Repeating it answers
// Already.
func (c *Client) CancelPaused(ctx context.Context, orderID string, r CancelPausedRequest) (ReverseCancel, error) {
	var out ReverseCancel
	err := c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/fulfillment/orders/"+url.PathEscape(orderID)+"/cancel", r, &out)
	return out, err
}
