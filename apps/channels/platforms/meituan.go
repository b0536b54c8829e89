package platforms

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Meituan-like food delivery: it pushes each order as a form
// (application/x-www-form-urlencoded) to PushPathMeituan with app_id,
// timestamp (unix seconds) and sig = hex MD5(path "?" the other params
// sorted by name as k=v joined by & + secret). It has no nonce: the
// signature itself is the request's fingerprint (a replay repeats it).
// Lines come as a JSON array in "detail", prices in yuan.
const (
	PushPathMeituan   = "/open/meituan/v1/orders"
	StatusPathMeituan = "/meituan/api/v1/order/status"
	MeituanTimeout    = 5 * time.Second
)

// MeituanFood is one line of "detail".
type MeituanFood struct {
	AppFoodCode string      `json:"app_food_code"`
	Quantity    int64       `json:"quantity"`
	Price       json.Number `json:"price"` // yuan
}

// MeituanAnswer is what Meituan expects: data "ok", else "ng" and an error.
type MeituanAnswer struct {
	Data     string `json:"data"`
	AcceptID string `json:"accept_id,omitempty"`
	Error    *struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"error,omitempty"`
}

// Meituan's error codes.
const (
	MtBadSign   = 703
	MtStale     = 704
	MtReplayed  = 705
	MtBadAppID  = 706
	MtMalformed = 801
	MtServer    = 900
)

// MeituanSign signs params (sig excluded) for path.
func MeituanSign(secret, path string, params map[string]string) string {
	return md5Hex(path + "?" + sortedPairs(params, "sig") + secret)
}

// SignMeituanForm adds app_id, timestamp and sig to form for path.
func SignMeituanForm(form url.Values, path string, k Keys, now time.Time) {
	form.Set("app_id", k.AppKey)
	form.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	form.Del("sig")
	form.Set("sig", MeituanSign(k.Secret, path, flat(form)))
}

func flat(v url.Values) map[string]string {
	p := make(map[string]string, len(v))
	for k := range v {
		p[k] = v.Get(k)
	}
	return p
}

// VerifyMeituan checks a form's app id, signature and timestamp and
// returns its signature, the replay fingerprint.
func VerifyMeituan(form url.Values, path string, k Keys, now time.Time, window time.Duration) (string, error) {
	if form.Get("app_id") != k.AppKey {
		return "", ErrAppKey
	}
	sig := form.Get("sig")
	if !EqualSig(sig, MeituanSign(k.Secret, path, flat(form))) {
		return "", ErrSignature
	}
	if _, err := CheckTime(form.Get("timestamp"), now, window); err != nil {
		return "", err
	}
	return strings.ToLower(sig), nil
}

// ParseMeituan reads a pushed order form.
func ParseMeituan(form url.Values, raw []byte) (Order, error) {
	o := Order{Platform: Meituan, PlatformOrderID: form.Get("order_id"), ShopID: form.Get("app_poi_code"), Raw: raw,
		Receiver: Receiver{Name: form.Get("recipient_name"), Phone: form.Get("recipient_phone"), Province: form.Get("recipient_province"),
			City: form.Get("recipient_city"), District: form.Get("recipient_district"), Detail: form.Get("recipient_address")}}
	ct, err := strconv.ParseInt(form.Get("ctime"), 10, 64)
	if err != nil {
		return o, malformed("ctime %q is not unix seconds", form.Get("ctime"))
	}
	o.PlatformTime = time.Unix(ct, 0).UTC()
	total, ok := fen(form.Get("total"))
	if !ok {
		return o, malformed("total %q is not a yuan amount", form.Get("total"))
	}
	o.TotalFen = total
	// delivery_time 0: as soon as possible (express today); otherwise the
	// day it is due, next-day delivery.
	dt, err := strconv.ParseInt(form.Get("delivery_time"), 10, 64)
	if err != nil {
		return o, malformed("delivery_time %q is not unix seconds", form.Get("delivery_time"))
	}
	if dt == 0 {
		o.SlotType, o.SlotDate = SlotExpress, o.PlatformTime.In(Shanghai).Format(time.DateOnly)
	} else {
		o.SlotType, o.SlotDate = SlotNextDay, time.Unix(dt, 0).In(Shanghai).Format(time.DateOnly)
	}
	var foods []MeituanFood
	if err := json.Unmarshal([]byte(form.Get("detail")), &foods); err != nil {
		return o, malformed("detail is not a JSON array of foods: %v", err)
	}
	for i, f := range foods {
		p, ok := fen(f.Price.String())
		if !ok {
			return o, malformed("detail[%d].price %q is not a yuan amount", i, f.Price)
		}
		o.Lines = append(o.Lines, Line{PlatformSKU: f.AppFoodCode, Qty: f.Quantity, UnitPriceFen: p})
	}
	return o, o.check()
}

// MeituanOrderForm builds the wire form of o (the stand-in's pushes), unsigned.
func MeituanOrderForm(o Order) url.Values {
	f := url.Values{}
	f.Set("order_id", o.PlatformOrderID)
	f.Set("app_poi_code", o.ShopID)
	f.Set("recipient_name", o.Receiver.Name)
	f.Set("recipient_phone", o.Receiver.Phone)
	f.Set("recipient_province", o.Receiver.Province)
	f.Set("recipient_city", o.Receiver.City)
	f.Set("recipient_district", o.Receiver.District)
	f.Set("recipient_address", o.Receiver.Detail)
	f.Set("ctime", strconv.FormatInt(o.PlatformTime.Unix(), 10))
	f.Set("total", Yuan(o.TotalFen))
	dt := int64(0)
	if o.SlotType == SlotNextDay {
		d, _ := time.ParseInLocation(time.DateOnly, o.SlotDate, Shanghai)
		dt = d.Add(10 * time.Hour).Unix()
	}
	f.Set("delivery_time", strconv.FormatInt(dt, 10))
	foods := make([]MeituanFood, 0, len(o.Lines))
	for _, l := range o.Lines {
		foods = append(foods, MeituanFood{AppFoodCode: l.PlatformSKU, Quantity: l.Qty, Price: json.Number(Yuan(l.UnitPriceFen))})
	}
	b, _ := json.Marshal(foods)
	f.Set("detail", string(b))
	return f
}
