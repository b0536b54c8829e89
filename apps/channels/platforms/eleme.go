package platforms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Ele.me-like food delivery: it pushes every message about an order as
// one JSON envelope to PushPathEleme. The signature travels inside the
// body, not in headers: signature = upper-case hex MD5 of the envelope's
// other fields sorted by name, each as name=value with no separator
// (appId, message, requestId, shopId, timestamp, type, userId), then the
// app secret. requestId is the request's nonce, timestamp unix
// milliseconds; message is the order itself as a JSON string. Only type
// 10 (an order that took effect) is an order to stage; Ele.me pushes
// other types too and expects them acknowledged all the same. It waits
// ElemeTimeout for {"message":"ok"} and pushes again what it did not get,
// with a new requestId.
const (
	PushPathEleme = "/open/eleme/v1/push"
	// StatusPathEleme is Ele.me's API: one JSON-RPC-like route, the
	// action in the body.
	StatusPathEleme = "/eleme/api/v1"
	ElemeTimeout    = 2 * time.Second

	ElemeOrderEffective = 10 // the message type of a new order
)

// ElemePush is the envelope Ele.me pushes.
type ElemePush struct {
	RequestID string `json:"requestId"`
	Type      int    `json:"type"`
	AppID     int64  `json:"appId"`
	Message   string `json:"message"`
	ShopID    int64  `json:"shopId"`
	Timestamp int64  `json:"timestamp"` // unix milliseconds
	UserID    int64  `json:"userId"`
	Signature string `json:"signature"`
}

// ElemeItem is one item of an order's basket group.
type ElemeItem struct {
	ID         int64       `json:"id"`
	Name       string      `json:"name"`
	Quantity   int64       `json:"quantity"`
	Price      json.Number `json:"price"` // yuan, per unit
	ExtendCode string      `json:"extendCode"`
}

// ElemeOrder is the order inside a type-10 message.
type ElemeOrder struct {
	ID           string      `json:"id"`
	ShopID       int64       `json:"shopId"`
	CreatedAt    string      `json:"createdAt"`   // 2006-01-02T15:04:05, Beijing time
	DeliverTime  *string     `json:"deliverTime"` // null: as soon as possible
	Consignee    string      `json:"consignee"`
	PhoneList    []string    `json:"phoneList"`
	ProvinceName string      `json:"provinceName"`
	CityName     string      `json:"cityName"`
	DistrictName string      `json:"districtName"`
	Address      string      `json:"address"`
	TotalPrice   json.Number `json:"totalPrice"` // yuan
	Groups       []struct {
		Name  string      `json:"name"`
		Type  string      `json:"type"` // normal, extra, discount
		Items []ElemeItem `json:"items"`
	} `json:"groups"`
}

// ElemeAnswer is what Ele.me expects: message "ok" when taken.
type ElemeAnswer struct {
	Message  string `json:"message"`
	Code     string `json:"code,omitempty"`
	AcceptID string `json:"acceptId,omitempty"`
}

// Ele.me's answer codes (strings, as its platform speaks).
const (
	ElOK        = "ok"
	ElBadSign   = "SIGN_ERROR"
	ElStale     = "TIMESTAMP_EXPIRED"
	ElReplayed  = "REQUEST_REPLAYED"
	ElBadApp    = "INVALID_APP"
	ElMalformed = "MALFORMED_MESSAGE"
	ElServer    = "SERVER_ERROR"
)

const elemeTimeLayout = "2006-01-02T15:04:05"

// ElemeSign signs an envelope (its signature field aside).
func ElemeSign(secret string, p ElemePush) string {
	s := "appId=" + strconv.FormatInt(p.AppID, 10) + "message=" + p.Message + "requestId=" + p.RequestID +
		"shopId=" + strconv.FormatInt(p.ShopID, 10) + "timestamp=" + strconv.FormatInt(p.Timestamp, 10) +
		"type=" + strconv.Itoa(p.Type) + "userId=" + strconv.FormatInt(p.UserID, 10) + secret
	return strings.ToUpper(md5Hex(s))
}

// SignElemePush fills the envelope's app id, request id, timestamp and
// signature; an app key that is not a number is taken as 0 (and refused).
func SignElemePush(p *ElemePush, k Keys, now time.Time) {
	p.AppID, _ = strconv.ParseInt(k.AppKey, 10, 64)
	p.RequestID = Nonce()
	p.Timestamp = now.UnixMilli()
	p.Signature = ElemeSign(k.Secret, *p)
}

// ParseElemePush reads an envelope (not yet verified).
func ParseElemePush(body []byte) (ElemePush, error) {
	var p ElemePush
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&p); err != nil {
		return p, malformed("not an Ele.me push: %v", err)
	}
	return p, nil
}

// VerifyEleme checks an envelope's app id, signature and timestamp and
// returns its request id, the nonce the caller must not have seen.
func VerifyEleme(p ElemePush, k Keys, now time.Time, window time.Duration) (string, error) {
	if strconv.FormatInt(p.AppID, 10) != k.AppKey {
		return "", ErrAppKey
	}
	if p.RequestID == "" || len(p.RequestID) > 64 || !EqualSig(p.Signature, ElemeSign(k.Secret, p)) {
		return "", ErrSignature
	}
	if p.Timestamp <= 0 {
		return "", fmt.Errorf("%w: timestamp missing", ErrStale)
	}
	if _, err := CheckTime(strconv.FormatInt(p.Timestamp/1000, 10), now, window); err != nil {
		return "", err
	}
	return p.RequestID, nil
}

// ParseElemeOrder reads the order of a type-10 message; raw is the
// envelope, kept for operators.
func ParseElemeOrder(message string, raw []byte) (Order, error) {
	var w ElemeOrder
	d := json.NewDecoder(strings.NewReader(message))
	d.UseNumber()
	if err := d.Decode(&w); err != nil {
		return Order{}, malformed("message is not an Ele.me order: %v", err)
	}
	o := Order{Platform: Eleme, PlatformOrderID: w.ID, Raw: raw,
		Receiver: Receiver{Name: w.Consignee, Province: w.ProvinceName, City: w.CityName, District: w.DistrictName, Detail: w.Address}}
	if w.ShopID != 0 {
		o.ShopID = strconv.FormatInt(w.ShopID, 10)
	}
	if len(w.PhoneList) > 0 {
		o.Receiver.Phone = w.PhoneList[0]
	}
	created, err := time.ParseInLocation(elemeTimeLayout, w.CreatedAt, Shanghai)
	if err != nil {
		return o, malformed("createdAt %q is not %s", w.CreatedAt, elemeTimeLayout)
	}
	o.PlatformTime = created.UTC()
	if w.DeliverTime == nil {
		o.SlotType, o.SlotDate = SlotExpress, created.Format(time.DateOnly)
	} else {
		t, err := time.ParseInLocation(elemeTimeLayout, *w.DeliverTime, Shanghai)
		if err != nil {
			return o, malformed("deliverTime %q is not %s", *w.DeliverTime, elemeTimeLayout)
		}
		o.SlotType, o.SlotDate = SlotNextDay, t.Format(time.DateOnly)
	}
	total, ok := fen(w.TotalPrice.String())
	if !ok {
		return o, malformed("totalPrice %q is not a yuan amount", w.TotalPrice)
	}
	o.TotalFen = total
	for g, grp := range w.Groups {
		for i, it := range grp.Items {
			p, ok := fen(it.Price.String())
			if !ok {
				return o, malformed("groups[%d].items[%d].price %q is not a yuan amount", g, i, it.Price)
			}
			o.Lines = append(o.Lines, Line{PlatformSKU: it.ExtendCode, Qty: it.Quantity, UnitPriceFen: p})
		}
	}
	return o, o.check()
}

// ElemeOrderMessage is the message of o (the stand-in's pushes).
func ElemeOrderMessage(o Order) string {
	w := ElemeOrder{ID: o.PlatformOrderID, CreatedAt: o.PlatformTime.In(Shanghai).Format(elemeTimeLayout), Consignee: o.Receiver.Name,
		PhoneList: []string{o.Receiver.Phone}, ProvinceName: o.Receiver.Province, CityName: o.Receiver.City, DistrictName: o.Receiver.District,
		Address: o.Receiver.Detail, TotalPrice: json.Number(Yuan(o.TotalFen))}
	w.ShopID, _ = strconv.ParseInt(o.ShopID, 10, 64)
	if o.SlotType == SlotNextDay {
		d, _ := time.ParseInLocation(time.DateOnly, o.SlotDate, Shanghai)
		s := d.Add(10 * time.Hour).Format(elemeTimeLayout)
		w.DeliverTime = &s
	}
	w.Groups = make([]struct {
		Name  string      `json:"name"`
		Type  string      `json:"type"`
		Items []ElemeItem `json:"items"`
	}, 1)
	w.Groups[0].Name, w.Groups[0].Type = "1号篮子", "normal"
	for i, l := range o.Lines {
		w.Groups[0].Items = append(w.Groups[0].Items, ElemeItem{ID: int64(i + 1), Name: l.PlatformSKU, Quantity: l.Qty,
			Price: json.Number(Yuan(l.UnitPriceFen)), ExtendCode: l.PlatformSKU})
	}
	b, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("marshal an Ele.me order: %v", err))
	}
	return string(b)
}

// ElemePushBody is a signed type-10 push of o (the stand-in's pushes).
func ElemePushBody(o Order, k Keys, now time.Time) []byte {
	p := ElemePush{Type: ElemeOrderEffective, Message: ElemeOrderMessage(o), UserID: 1}
	p.ShopID, _ = strconv.ParseInt(o.ShopID, 10, 64)
	SignElemePush(&p, k, now)
	b, _ := json.Marshal(p)
	return b
}

// Ele.me's API takes a status as an action on the order.
var elemeActions = map[string]string{
	StatusAccepted:  "eleme.order.confirmOrderLite",
	StatusShipped:   "eleme.order.deliveryBySelfLite",
	StatusDelivered: "eleme.order.receivedOrderLite",
	StatusCancelled: "eleme.order.cancelOrderLite",
}

// ElemeCall is one call of Ele.me's API.
type ElemeCall struct {
	Nop       string            `json:"nop"`
	ID        string            `json:"id"`
	Action    string            `json:"action"`
	Metas     map[string]any    `json:"metas"`
	Params    map[string]string `json:"params"`
	Signature string            `json:"signature"`
}

// ElemeCallAnswer is its answer: error null when done.
type ElemeCallAnswer struct {
	ID     string `json:"id"`
	Result any    `json:"result"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ElemeCallSign signs a call: upper-case hex MD5 of the action, then the
// metas and params together sorted by name, each name=JSON(value), then
// the secret.
func ElemeCallSign(secret string, c ElemeCall) string {
	all := map[string]any{}
	for k, v := range c.Metas {
		all[k] = v
	}
	for k, v := range c.Params {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(c.Action)
	for _, k := range keys {
		v, _ := json.Marshal(all[k])
		b.WriteString(k)
		b.WriteByte('=')
		b.Write(v)
	}
	b.WriteString(secret)
	return strings.ToUpper(md5Hex(b.String()))
}

func elemeStatusCall(u StatusUpdate, k Keys, now time.Time) []byte {
	c := ElemeCall{Nop: "1.0.0", ID: u.UpdateID, Action: elemeActions[u.Status],
		Metas:  map[string]any{"app_key": k.AppKey, "timestamp": now.Unix()},
		Params: map[string]string{"orderId": u.PlatformOrderID, "harvestOrderId": u.HarvestOrderID, "updateId": u.UpdateID}}
	c.Signature = ElemeCallSign(k.Secret, c)
	b, _ := json.Marshal(c)
	return b
}

func parseElemeStatus(body []byte, k Keys, now time.Time, window time.Duration) (StatusUpdate, error) {
	u := StatusUpdate{Platform: Eleme}
	var c ElemeCall
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return u, malformed("%v", err)
	}
	if c.Metas["app_key"] != k.AppKey {
		return u, ErrAppKey
	}
	if !EqualSig(c.Signature, ElemeCallSign(k.Secret, c)) {
		return u, ErrSignature
	}
	if _, err := CheckTime(fmt.Sprint(c.Metas["timestamp"]), now, window); err != nil {
		return u, err
	}
	for st, a := range elemeActions {
		if a == c.Action {
			u.Status = st
		}
	}
	if u.Status == "" {
		return u, malformed("action %q is not one Harvest calls", c.Action)
	}
	u.PlatformOrderID, u.HarvestOrderID, u.UpdateID = c.Params["orderId"], c.Params["harvestOrderId"], c.Params["updateId"]
	return u, nil
}
