package platforms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Yuedian-like group buying: when a group closes it pushes every order of
// the group at once, one JSON request each, to PushPathYuedian. Each
// request carries four headers: the app key, a timestamp (unix seconds),
// a nonce, and X-Yd-Sign = hex HMAC-SHA256(secret, appKey "\n" timestamp
// "\n" nonce "\n" body). It waits YuedianTimeout for the answer and
// retries what it did not get, with a new timestamp and nonce.
const (
	PushPathYuedian   = "/open/yuedian/v1/orders"
	StatusPathYuedian = "/yuedian/open/v1/order-status"
	HeaderYdAppKey    = "X-Yd-Appkey"
	HeaderYdTimestamp = "X-Yd-Timestamp"
	HeaderYdNonce     = "X-Yd-Nonce"
	HeaderYdSign      = "X-Yd-Sign"
	YuedianTimeout    = 3 * time.Second
)

// YuedianOrder is a Yuedian order on the wire.
type YuedianOrder struct {
	OrderNo   string `json:"order_no"`
	ShopID    string `json:"shop_id"`
	CreatedAt int64  `json:"created_at"` // unix seconds
	Receiver  struct {
		Name     string `json:"name"`
		Mobile   string `json:"mobile"`
		Province string `json:"province"`
		City     string `json:"city"`
		District string `json:"district"`
		Address  string `json:"address"`
	} `json:"receiver"`
	Delivery struct {
		Type string `json:"type"` // EXPRESS, NEXT_DAY
		Date string `json:"date"` // YYYY-MM-DD
	} `json:"delivery"`
	Items []struct {
		ItemCode  string `json:"item_code"`
		Quantity  int64  `json:"quantity"`
		PriceCent int64  `json:"price_cent"`
	} `json:"items"`
	TotalCent int64 `json:"total_cent"`
}

// YuedianAnswer is what Yuedian expects back: code 0 for taken.
type YuedianAnswer struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		AcceptID string `json:"accept_id"`
	} `json:"data,omitempty"`
}

// Yuedian's answer codes.
const (
	YdOK          = 0
	YdBadSign     = 40101
	YdStale       = 40102
	YdReplayed    = 40103
	YdBadAppKey   = 40104
	YdMalformed   = 40001
	YdServerError = 50000
)

// YuedianSign signs one request.
func YuedianSign(secret, appKey, ts, nonce string, body []byte) string {
	return hmacHex(secret, appKey+"\n"+ts+"\n"+nonce+"\n"+string(body))
}

// SignYuedianRequest sets the four headers on r for body.
func SignYuedianRequest(r *http.Request, k Keys, now time.Time, body []byte) {
	ts, n := strconv.FormatInt(now.Unix(), 10), Nonce()
	r.Header.Set(HeaderYdAppKey, k.AppKey)
	r.Header.Set(HeaderYdTimestamp, ts)
	r.Header.Set(HeaderYdNonce, n)
	r.Header.Set(HeaderYdSign, YuedianSign(k.Secret, k.AppKey, ts, n, body))
}

// VerifyYuedian checks a request's app key, signature and timestamp and
// returns its nonce (which the caller must not have seen before).
func VerifyYuedian(h http.Header, body []byte, k Keys, now time.Time, window time.Duration) (string, error) {
	if h.Get(HeaderYdAppKey) != k.AppKey {
		return "", ErrAppKey
	}
	ts, n := h.Get(HeaderYdTimestamp), h.Get(HeaderYdNonce)
	if n == "" || len(n) > 64 || !EqualSig(h.Get(HeaderYdSign), YuedianSign(k.Secret, k.AppKey, ts, n, body)) {
		return "", ErrSignature
	}
	if _, err := CheckTime(ts, now, window); err != nil {
		return "", err
	}
	return n, nil
}

// ParseYuedian reads a pushed order.
func ParseYuedian(body []byte) (Order, error) {
	var w YuedianOrder
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&w); err != nil {
		return Order{}, malformed("not a Yuedian order: %v", err)
	}
	o := Order{Platform: Yuedian, PlatformOrderID: w.OrderNo, ShopID: w.ShopID, TotalFen: w.TotalCent,
		Receiver: Receiver{Name: w.Receiver.Name, Phone: w.Receiver.Mobile, Province: w.Receiver.Province,
			City: w.Receiver.City, District: w.Receiver.District, Detail: w.Receiver.Address},
		SlotType: w.Delivery.Type, SlotDate: w.Delivery.Date, PlatformTime: time.Unix(w.CreatedAt, 0).UTC(), Raw: body}
	for _, it := range w.Items {
		o.Lines = append(o.Lines, Line{PlatformSKU: it.ItemCode, Qty: it.Quantity, UnitPriceFen: it.PriceCent})
	}
	return o, o.check()
}

// YuedianStatus is a status change as Yuedian's status API takes it.
type YuedianStatus struct {
	OrderNo        string `json:"order_no"`
	Status         string `json:"status"`
	HarvestOrderID string `json:"harvest_order_id,omitempty"`
	UpdateID       string `json:"update_id"`
	At             int64  `json:"at"`
}

// YuedianOrderBody builds the wire order of o (the stand-in's pushes).
func YuedianOrderBody(o Order) []byte {
	var w YuedianOrder
	w.OrderNo, w.ShopID, w.CreatedAt, w.TotalCent = o.PlatformOrderID, o.ShopID, o.PlatformTime.Unix(), o.TotalFen
	w.Receiver.Name, w.Receiver.Mobile, w.Receiver.Province = o.Receiver.Name, o.Receiver.Phone, o.Receiver.Province
	w.Receiver.City, w.Receiver.District, w.Receiver.Address = o.Receiver.City, o.Receiver.District, o.Receiver.Detail
	w.Delivery.Type, w.Delivery.Date = o.SlotType, o.SlotDate
	for _, l := range o.Lines {
		w.Items = append(w.Items, struct {
			ItemCode  string `json:"item_code"`
			Quantity  int64  `json:"quantity"`
			PriceCent int64  `json:"price_cent"`
		}{l.PlatformSKU, l.Qty, l.UnitPriceFen})
	}
	b, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("marshal a Yuedian order: %v", err))
	}
	return b
}
