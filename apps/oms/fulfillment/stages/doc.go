package stages

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/golang/snappy"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
)

// Child is a delivery order's own part of a unit's document.
type Child struct {
	domain.Delivery
	Primary   bool   `json:"primary,omitempty"` // carries the order-level stages reissue_sms and invoice
	Carrier   string `json:"carrier,omitempty"` // waybill
	WaybillNo string `json:"waybillNo,omitempty"`
	Occupied  bool   `json:"occupied,omitempty"` // erp_stock
	Day       string `json:"day,omitempty"`      // warehouse_throttle: the capacity day taken
	WMSID     string `json:"wmsId,omitempty"`    // dispatch
}

// Gift is a goods gift marketing granted the order.
type Gift struct {
	CampaignID string `json:"campaign_id"`
	SKU        string `json:"sku"`
	Qty        int64  `json:"qty"`
}

// FraudVerdict is the fraud audit's score and decision.
type FraudVerdict struct {
	Score    int    `json:"score"` // 0..100
	Decision string `json:"decision"`
}

// The fraud decisions.
const (
	FraudAccept = "ACCEPT"
	FraudReview = "REVIEW"
	FraudReject = "REJECT"
)

// Doc is a unit's working document: what the stages read and the results
// they recorded, saved with every commit.
type Doc struct {
	OrderID      string         `json:"orderId,omitempty"`
	CustomerID   string         `json:"customerId,omitempty"`
	Source       domain.Source  `json:"source,omitempty"`
	Address      domain.Address `json:"address,omitempty"`
	Slot         domain.Slot    `json:"slot,omitempty"`
	InvoiceTitle string         `json:"invoiceTitle,omitempty"`
	// SMSRecipients are the phones customer service set for the order's
	// SMS (empty: the address's phone); ChangeContact keeps them current.
	SMSRecipients []string      `json:"smsRecipients,omitempty"`
	OriginalOrder string        `json:"originalOrder,omitempty"`
	Header        domain.Header `json:"header,omitempty"`
	PlacedAt      time.Time     `json:"placedAt,omitempty"`
	PaidAt        time.Time     `json:"paidAt,omitempty"`
	// Lines are the working lines: the order's own at first, then with
	// gifts, expanded bundles, catalog data and allocation. A child's doc
	// carries its delivery's lines here.
	Lines []domain.FLine `json:"lines,omitempty"`
	// Receipts maps an effect's idempotency id to the partner's answer.
	Receipts map[string]string `json:"receipts,omitempty"`
	// Stage results of the order's unit.
	Gifts        []Gift            `json:"gifts,omitempty"`
	GiftsAsked   bool              `json:"giftsAsked,omitempty"`
	Filled       bool              `json:"filled,omitempty"`
	Allocated    bool              `json:"allocated,omitempty"`
	Deliveries   []domain.Delivery `json:"deliveries,omitempty"`
	Fraud        *FraudVerdict     `json:"fraud,omitempty"`
	FraudCleared bool              `json:"fraudCleared,omitempty"` // an operator cleared a REVIEW verdict
	EffectiveAt  time.Time         `json:"effectiveAt,omitempty"`
	// Child is set on delivery orders.
	Child *Child `json:"child,omitempty"`
	// OrderLines are the whole order's lines, on the primary child only
	// (the invoice covers the order, not one delivery).
	OrderLines []domain.FLine `json:"orderLines,omitempty"`
}

// NewDoc is the document a paid order enters fulfillment with.
func NewDoc(o *domain.Order, paidAt time.Time) Doc {
	d := Doc{OrderID: o.ID(), CustomerID: o.CustomerID(), Source: o.Source(), Address: o.Address(), Slot: o.Slot(),
		InvoiceTitle: o.InvoiceTitle(), OriginalOrder: o.OriginalOrder(), PlacedAt: o.CreatedAt(), PaidAt: paidAt,
		SMSRecipients: o.CustomSMSRecipients(),
		Header: domain.Header{Source: o.Source(), Goods: o.Goods(), Freight: o.Freight(), Total: o.Total(),
			NonCash: o.NonCash(), CashDue: o.CashDue(), Paid: o.Paid()},
		Receipts: map[string]string{}}
	for _, l := range o.Lines() {
		d.Lines = append(d.Lines, domain.FLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, UnitPrice: l.UnitPrice, Amount: l.Amount,
			Kind: domain.KindOrdered, DeliveryDate: o.Slot().Date})
	}
	return d
}

// Split makes the delivery orders the split stage planned, once the
// order's unit has passed its last stage.
func Split(root *Unit) ([]runner.Child[Doc], error) {
	ds := root.Doc.Deliveries
	if len(ds) == 0 {
		return nil, fmt.Errorf("unit %s reached the end of its stages without a split", root.ID)
	}
	out := make([]runner.Child[Doc], 0, len(ds))
	for i, d := range ds {
		doc := root.Doc
		doc.Lines = d.Lines
		doc.Deliveries = nil
		doc.Gifts = nil
		doc.Receipts = map[string]string{}
		doc.Child = &Child{Delivery: d, Primary: i == 0}
		if i == 0 {
			doc.OrderLines = root.Doc.Lines
		}
		out = append(out, runner.Child[Doc]{Seq: d.Seq, Doc: doc,
			Note: fmt.Sprintf("delivery order %d of %d: %s", d.Seq, len(ds), deliveryLabel(d))})
	}
	return out, nil
}

// CancelOrder is the effect of a stage that stops the order: it is
// cancelled in the outcome's transaction, with its cancel event.
type CancelOrder struct {
	Reason domain.CancelReason
	Note   string
}

// Retried is an operator's retry of a unit failed with code: a fraud
// REVIEW is cleared by it (the operator has reviewed the order).
func Retried(code string, d *Doc) {
	if code == "FRAUD_REVIEW" {
		d.FraudCleared = true
	}
}

// A unit's document is stored compressed.
//
// Every stage commit rewrites its unit's whole document (about 2 KB of
// JSON, more with many lines), some fourteen times per order; at 160
// orders/s those rewrites were two thirds of all the SQL text MariaDB
// lexed and of what InnoDB wrote. Compressed with Snappy a document is
// well under half its size. (Deflate, tried first, made documents
// smaller still but cost a quarter of OMS's CPU.) A stored document
// starts with DocSnappy and the Snappy block; one starting with '{' is
// plain JSON, as rows written before were, and still reads.

// DocSnappy starts a compressed document.
const DocSnappy byte = 0x02

// Encode is d as stored: DocSnappy, then its JSON compressed.
func Encode(d *Doc) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+snappy.MaxEncodedLen(len(raw)))
	out[0] = DocSnappy
	return out[:1+len(snappy.Encode(out[1:], raw))], nil
}

// Decode reads a stored document, compressed or plain JSON.
func Decode(b []byte, d *Doc) error {
	if len(b) > 0 && b[0] == DocSnappy {
		raw, err := snappy.Decode(nil, b[1:])
		if err != nil {
			return fmt.Errorf("decompress document: %w", err)
		}
		b = raw
	}
	return json.Unmarshal(b, d)
}
