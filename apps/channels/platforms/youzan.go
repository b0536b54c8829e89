package platforms

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Youzan-like shop: Harvest pulls its orders. Youzan's API is
// authenticated by an access token, not by a signature per request: POST
// TokenPathYouzan with the app's client id and secret gives a token that
// lasts a while (its expiry on Youzan's clock); a call with a token
// Youzan no longer knows answers code YzTokenInvalid and must be made
// again with a new one. GET PullPathYouzan pages (page_no from 1) through
// the orders whose update time is in [update_time_start,
// update_time_end], both ends included, to the second, written
// "2006-01-02 15:04:05" in Beijing time, NEWEST update first (then by tid,
// descending); page_no × page_size may not pass YouzanMaxDepth
// (YzTooDeep). Its index shows an order some time after its update.
const (
	TokenPathYouzan  = "/youzan/auth/token"
	PullPathYouzan   = "/youzan/api/youzan.trades.sold.get/4.0.0"
	StatusPathYouzan = "/youzan/api/youzan.trade.status.sync/1.0.0"
	YouzanMaxPage    = 100
	YouzanMaxDepth   = 3000

	YzOK           = 200
	YzTokenInvalid = 4201
	YzBadClient    = 4202
	YzTooDeep      = 4301
	YzBadParam     = 4001
)

// YouzanTimeLayout is how Youzan writes a time (Beijing time, seconds).
const YouzanTimeLayout = time.DateTime

// YouzanTime formats t as Youzan does.
func YouzanTime(t time.Time) string { return t.In(Shanghai).Format(YouzanTimeLayout) }

// ParseYouzanTime reads a Youzan time.
func ParseYouzanTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(YouzanTimeLayout, s, Shanghai)
	return t.UTC(), err
}

// YouzanTokenRequest asks for an access token.
type YouzanTokenRequest struct {
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	AuthorizeType string `json:"authorize_type"` // silent
	GrantID       string `json:"grant_id"`       // the shop
}

// YouzanToken is the token's answer.
type YouzanToken struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		AccessToken string `json:"access_token"`
		Expires     int64  `json:"expires"` // unix ms, Youzan's clock
	} `json:"data"`
}

// YouzanEnvelope is every Youzan API answer's envelope.
type YouzanEnvelope struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// YouzanTrade is one order of a page.
type YouzanTrade struct {
	FullOrderInfo struct {
		OrderInfo struct {
			Tid        string `json:"tid"`
			Created    string `json:"created"`
			UpdateTime string `json:"update_time"`
			NodeKdtID  string `json:"node_kdt_id"`
		} `json:"order_info"`
		AddressInfo struct {
			ReceiverName      string `json:"receiver_name"`
			ReceiverTel       string `json:"receiver_tel"`
			DeliveryProvince  string `json:"delivery_province"`
			DeliveryCity      string `json:"delivery_city"`
			DeliveryDistrict  string `json:"delivery_district"`
			DeliveryAddress   string `json:"delivery_address"`
			DeliveryStartTime string `json:"delivery_start_time"` // the slot's start
		} `json:"address_info"`
		Orders []struct {
			OuterSkuID string `json:"outer_sku_id"`
			Num        int64  `json:"num"`
			Price      string `json:"price"` // yuan, per unit
		} `json:"orders"`
		PayInfo struct {
			Payment string `json:"payment"` // yuan
		} `json:"pay_info"`
	} `json:"full_order_info"`
}

// YouzanPage is the search's answer.
type YouzanPage struct {
	YouzanEnvelope
	Data struct {
		TotalResults      int           `json:"total_results"`
		FullOrderInfoList []YouzanTrade `json:"full_order_info_list"`
	} `json:"data"`
}

// YouzanPageQuery is the query of one page.
func YouzanPageQuery(token string, from, to time.Time, page, size int) url.Values {
	q := url.Values{}
	q.Set("access_token", token)
	q.Set("update_time_start", YouzanTime(from))
	q.Set("update_time_end", YouzanTime(to))
	q.Set("page_no", strconv.Itoa(page))
	q.Set("page_size", strconv.Itoa(size))
	return q
}

// FromYouzan turns a pulled trade into a staged order. A trade whose
// delivery starts on the day it was made is express, later next-day.
func FromYouzan(w YouzanTrade) (Order, error) {
	raw, _ := json.Marshal(w)
	f := w.FullOrderInfo
	a := f.AddressInfo
	o := Order{Platform: Youzan, PlatformOrderID: f.OrderInfo.Tid, ShopID: f.OrderInfo.NodeKdtID, Raw: raw,
		Receiver: Receiver{Name: a.ReceiverName, Phone: a.ReceiverTel, Province: a.DeliveryProvince, City: a.DeliveryCity,
			District: a.DeliveryDistrict, Detail: a.DeliveryAddress}}
	upd, err := ParseYouzanTime(f.OrderInfo.UpdateTime)
	if err != nil {
		return o, malformed("update_time %q is not %s", f.OrderInfo.UpdateTime, YouzanTimeLayout)
	}
	o.PlatformTime = upd
	created, err := ParseYouzanTime(f.OrderInfo.Created)
	if err != nil {
		return o, malformed("created %q is not %s", f.OrderInfo.Created, YouzanTimeLayout)
	}
	start, err := ParseYouzanTime(a.DeliveryStartTime)
	if err != nil {
		return o, malformed("delivery_start_time %q is not %s", a.DeliveryStartTime, YouzanTimeLayout)
	}
	o.SlotType, o.SlotDate = SlotNextDay, start.In(Shanghai).Format(time.DateOnly)
	if o.SlotDate == created.In(Shanghai).Format(time.DateOnly) {
		o.SlotType = SlotExpress
	}
	total, ok := fen(f.PayInfo.Payment)
	if !ok {
		return o, malformed("pay_info.payment %q is not a yuan amount", f.PayInfo.Payment)
	}
	o.TotalFen = total
	for i, l := range f.Orders {
		p, ok := fen(l.Price)
		if !ok {
			return o, malformed("orders[%d].price %q is not a yuan amount", i, l.Price)
		}
		o.Lines = append(o.Lines, Line{PlatformSKU: l.OuterSkuID, Qty: l.Num, UnitPriceFen: p})
	}
	return o, o.check()
}

// ToYouzan is the wire form of o (the stand-in's pages); created is when
// it was made, o.PlatformTime its last update.
func ToYouzan(o Order, created time.Time) YouzanTrade {
	var w YouzanTrade
	f := &w.FullOrderInfo
	f.OrderInfo.Tid, f.OrderInfo.NodeKdtID = o.PlatformOrderID, o.ShopID
	f.OrderInfo.Created, f.OrderInfo.UpdateTime = YouzanTime(created), YouzanTime(o.PlatformTime)
	a := &f.AddressInfo
	a.ReceiverName, a.ReceiverTel, a.DeliveryProvince, a.DeliveryCity = o.Receiver.Name, o.Receiver.Phone, o.Receiver.Province, o.Receiver.City
	a.DeliveryDistrict, a.DeliveryAddress = o.Receiver.District, o.Receiver.Detail
	d, _ := time.ParseInLocation(time.DateOnly, o.SlotDate, Shanghai)
	a.DeliveryStartTime = YouzanTime(d.Add(9 * time.Hour))
	f.PayInfo.Payment = Yuan(o.TotalFen)
	for _, l := range o.Lines {
		f.Orders = append(f.Orders, struct {
			OuterSkuID string `json:"outer_sku_id"`
			Num        int64  `json:"num"`
			Price      string `json:"price"`
		}{l.PlatformSKU, l.Qty, Yuan(l.UnitPriceFen)})
	}
	return w
}

// YouzanStatus is a status change as Youzan's status API takes it.
type YouzanStatus struct {
	Tid            string `json:"tid"`
	Status         string `json:"status"`
	HarvestOrderID string `json:"harvest_order_id,omitempty"`
	UpdateID       string `json:"update_id"`
}

func youzanStatusRequest(u StatusUpdate) (string, []byte) {
	b, _ := json.Marshal(YouzanStatus{Tid: u.PlatformOrderID, Status: u.Status, HarvestOrderID: u.HarvestOrderID, UpdateID: u.UpdateID})
	return StatusPathYouzan + "?" + url.Values{"access_token": {u.Token}}.Encode(), b
}

// parseYouzanStatus reads a status call; the caller checks its token.
func parseYouzanStatus(q url.Values, body []byte) (StatusUpdate, error) {
	u := StatusUpdate{Platform: Youzan, Token: q.Get("access_token")}
	if u.Token == "" {
		return u, fmt.Errorf("%w: no access_token", ErrSignature)
	}
	var s YouzanStatus
	if err := json.Unmarshal(body, &s); err != nil {
		return u, malformed("%v", err)
	}
	u.PlatformOrderID, u.Status, u.HarvestOrderID, u.UpdateID = s.Tid, s.Status, s.HarvestOrderID, s.UpdateID
	return u, nil
}
