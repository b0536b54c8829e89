package platforms

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Douyin-like live-stream shop: Harvest pulls its orders. GET
// PullPathDouyin pages through the orders updated in [start_time,
// end_time) (unix milliseconds, on Douyin's clock), oldest update first,
// page from 0; every request carries app_key, timestamp and sign = hex
// HMAC-SHA256(secret, the other params sorted by name, each as key then
// value, concatenated). An order becomes visible to the search some time
// after its update_time (Douyin's index lags and its clock is its own):
// the puller reads again from a while before its cursor.
const (
	PullPathDouyin   = "/douyin/order/searchList"
	StatusPathDouyin = "/douyin/order/status"
	DouyinMaxPage    = 100
)

// DouyinOrder is one order of a page.
type DouyinOrder struct {
	OrderID      string `json:"order_id"`
	ShopID       string `json:"shop_id"`
	UpdateTimeMs int64  `json:"update_time"`
	PostReceiver string `json:"post_receiver"`
	PostTel      string `json:"post_tel"`
	PostAddr     struct {
		Province string `json:"province"`
		City     string `json:"city"`
		Town     string `json:"town"`
		Detail   string `json:"detail"`
	} `json:"post_addr"`
	ExpectDate   string `json:"expect_ship_date"`        // YYYY-MM-DD
	DeliveryType string `json:"delivery_type,omitempty"` // EXPRESS for same-day; otherwise next-day
	OrderAmount  int64  `json:"order_amount"`            // fen
	SkuOrderList []struct {
		OutSkuID     string `json:"out_sku_id"`
		ItemNum      int64  `json:"item_num"`
		OriginAmount int64  `json:"origin_amount"` // fen, per unit
	} `json:"sku_order_list"`
}

// DouyinPage is the search's answer.
type DouyinPage struct {
	ErrNo   int    `json:"err_no"`
	Message string `json:"message"`
	Data    struct {
		List  []DouyinOrder `json:"list"`
		Total int           `json:"total"`
		Page  int           `json:"page"`
		Size  int           `json:"size"`
	} `json:"data"`
}

// DouyinSign signs params (sign excluded).
func DouyinSign(secret string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sign" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	return hmacHex(secret, b.String())
}

// SignDouyinQuery adds app_key, timestamp and sign to q.
func SignDouyinQuery(q url.Values, k Keys, now time.Time) {
	q.Set("app_key", k.AppKey)
	q.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	q.Del("sign")
	q.Set("sign", DouyinSign(k.Secret, flat(q)))
}

// VerifyDouyin checks a query's app key, signature and timestamp.
func VerifyDouyin(q url.Values, k Keys, now time.Time, window time.Duration) error {
	if q.Get("app_key") != k.AppKey {
		return ErrAppKey
	}
	if !EqualSig(q.Get("sign"), DouyinSign(k.Secret, flat(q))) {
		return ErrSignature
	}
	_, err := CheckTime(q.Get("timestamp"), now, window)
	return err
}

// FromDouyin turns a pulled order into a staged one.
func FromDouyin(w DouyinOrder) (Order, error) {
	raw, _ := json.Marshal(w)
	o := Order{Platform: Douyin, PlatformOrderID: w.OrderID, ShopID: w.ShopID, TotalFen: w.OrderAmount, Raw: raw,
		Receiver: Receiver{Name: w.PostReceiver, Phone: w.PostTel, Province: w.PostAddr.Province, City: w.PostAddr.City,
			District: w.PostAddr.Town, Detail: w.PostAddr.Detail},
		SlotType: SlotNextDay, SlotDate: w.ExpectDate, PlatformTime: time.UnixMilli(w.UpdateTimeMs).UTC()}
	if w.DeliveryType == SlotExpress {
		o.SlotType = SlotExpress
	}
	for _, s := range w.SkuOrderList {
		o.Lines = append(o.Lines, Line{PlatformSKU: s.OutSkuID, Qty: s.ItemNum, UnitPriceFen: s.OriginAmount})
	}
	return o, o.check()
}

// ToDouyin is the wire form of o (the stand-in's search answers).
func ToDouyin(o Order) DouyinOrder {
	var w DouyinOrder
	w.OrderID, w.ShopID, w.UpdateTimeMs, w.OrderAmount, w.ExpectDate = o.PlatformOrderID, o.ShopID, o.PlatformTime.UnixMilli(), o.TotalFen, o.SlotDate
	if o.SlotType == SlotExpress {
		w.DeliveryType = SlotExpress
	}
	w.PostReceiver, w.PostTel = o.Receiver.Name, o.Receiver.Phone
	w.PostAddr.Province, w.PostAddr.City, w.PostAddr.Town, w.PostAddr.Detail = o.Receiver.Province, o.Receiver.City, o.Receiver.District, o.Receiver.Detail
	for _, l := range o.Lines {
		w.SkuOrderList = append(w.SkuOrderList, struct {
			OutSkuID     string `json:"out_sku_id"`
			ItemNum      int64  `json:"item_num"`
			OriginAmount int64  `json:"origin_amount"`
		}{l.PlatformSKU, l.Qty, l.UnitPriceFen})
	}
	return w
}

// StatusUpdate is a status change as every platform's status API gets
// it, in that platform's envelope (StatusRequest).
type StatusUpdate struct {
	Platform        string
	PlatformOrderID string
	Status          string
	HarvestOrderID  string
	UpdateID        string // Harvest's id of the change, the same on a resend
	At              time.Time
	// Token is the access token of a platform that takes one (Youzan)
	// instead of a signature.
	Token string
}

// StatusRequest is the signed request telling platform u.Platform of u:
// its path, query, content type and body.
func StatusRequest(u StatusUpdate, k Keys, now time.Time) (path string, header map[string]string, body []byte) {
	switch u.Platform {
	case Yuedian:
		body, _ = json.Marshal(YuedianStatus{OrderNo: u.PlatformOrderID, Status: u.Status, HarvestOrderID: u.HarvestOrderID,
			UpdateID: u.UpdateID, At: u.At.Unix()})
		ts, n := strconv.FormatInt(now.Unix(), 10), Nonce()
		return StatusPathYuedian, map[string]string{"Content-Type": "application/json", HeaderYdAppKey: k.AppKey,
			HeaderYdTimestamp: ts, HeaderYdNonce: n, HeaderYdSign: YuedianSign(k.Secret, k.AppKey, ts, n, body)}, body
	case Meituan:
		f := url.Values{}
		f.Set("order_id", u.PlatformOrderID)
		f.Set("status", u.Status)
		f.Set("harvest_order_id", u.HarvestOrderID)
		f.Set("update_id", u.UpdateID)
		SignMeituanForm(f, StatusPathMeituan, k, now)
		return StatusPathMeituan, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(f.Encode())
	case Eleme:
		return StatusPathEleme, map[string]string{"Content-Type": "application/json"}, elemeStatusCall(u, k, now)
	case Youzan:
		path, body = youzanStatusRequest(u)
		return path, map[string]string{"Content-Type": "application/json"}, body
	default: // Douyin: the body is param_json, signed in the query
		body, _ = json.Marshal(map[string]string{"order_id": u.PlatformOrderID, "status": u.Status,
			"harvest_order_id": u.HarvestOrderID, "update_id": u.UpdateID})
		q := url.Values{}
		q.Set("param_json", string(body))
		SignDouyinQuery(q, k, now)
		q.Del("param_json")
		return StatusPathDouyin + "?" + q.Encode(), map[string]string{"Content-Type": "application/json"}, body
	}
}

// ParseStatus reads a status request as the platform's API does
// (verifying its signature): the stand-in's side of StatusRequest. A
// Youzan request's token is the caller's to check (u.Token).
func ParseStatus(platform string, path string, q url.Values, header func(string) string, body []byte, k Keys, now time.Time, window time.Duration) (StatusUpdate, error) {
	u := StatusUpdate{Platform: platform}
	switch platform {
	case Yuedian:
		h := map[string][]string{}
		for _, n := range []string{HeaderYdAppKey, HeaderYdTimestamp, HeaderYdNonce, HeaderYdSign} {
			h[n] = []string{header(n)}
		}
		if _, err := VerifyYuedian(h, body, k, now, window); err != nil {
			return u, err
		}
		var s YuedianStatus
		if err := json.Unmarshal(body, &s); err != nil {
			return u, malformed("%v", err)
		}
		u.PlatformOrderID, u.Status, u.HarvestOrderID, u.UpdateID, u.At = s.OrderNo, s.Status, s.HarvestOrderID, s.UpdateID, time.Unix(s.At, 0)
	case Meituan:
		f, err := url.ParseQuery(string(body))
		if err != nil {
			return u, malformed("%v", err)
		}
		if _, err := VerifyMeituan(f, path, k, now, window); err != nil {
			return u, err
		}
		u.PlatformOrderID, u.Status, u.HarvestOrderID, u.UpdateID = f.Get("order_id"), f.Get("status"), f.Get("harvest_order_id"), f.Get("update_id")
	case Eleme:
		var err error
		if u, err = parseElemeStatus(body, k, now, window); err != nil {
			return u, err
		}
	case Youzan:
		var err error
		if u, err = parseYouzanStatus(q, body); err != nil {
			return u, err
		}
	default:
		q2 := url.Values{}
		for k := range q {
			q2.Set(k, q.Get(k))
		}
		q2.Set("param_json", string(body))
		if err := VerifyDouyin(q2, k, now, window); err != nil {
			return u, err
		}
		var s map[string]string
		if err := json.Unmarshal(body, &s); err != nil {
			return u, malformed("%v", err)
		}
		u.PlatformOrderID, u.Status, u.HarvestOrderID, u.UpdateID = s["order_id"], s["status"], s["harvest_order_id"], s["update_id"]
	}
	if u.PlatformOrderID == "" || u.Status == "" {
		return u, malformed("order id and status are required")
	}
	return u, nil
}
