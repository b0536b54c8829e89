package platforms

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func order() Order {
	return Order{PlatformOrderID: "P1", ShopID: "S", TotalFen: 1234, PlatformTime: time.Unix(1_800_000_000, 0).UTC(),
		Receiver: Receiver{Name: "Li", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1"},
		SlotType: SlotNextDay, SlotDate: "2027-01-16", Lines: []Line{{PlatformSKU: "A", Qty: 2, UnitPriceFen: 617}}}
}

func TestEachFormatRoundTrips(t *testing.T) {
	o := order()
	y, err := ParseYuedian(YuedianOrderBody(o))
	if err != nil || y.PlatformOrderID != "P1" || y.Lines[0] != o.Lines[0] || y.TotalFen != 1234 || y.Receiver != o.Receiver {
		t.Fatalf("Yuedian: %+v %v", y, err)
	}
	f := MeituanOrderForm(o)
	if f.Get("total") != "12.34" || !strings.Contains(f.Get("detail"), `"price":"6.17"`) && !strings.Contains(f.Get("detail"), `"price":6.17`) {
		t.Fatalf("Meituan form %v", f)
	}
	m, err := ParseMeituan(f, nil)
	if err != nil || m.Lines[0] != o.Lines[0] || m.TotalFen != 1234 || m.SlotType != SlotNextDay || m.SlotDate != o.SlotDate {
		t.Fatalf("Meituan: %+v %v", m, err)
	}
	d, err := FromDouyin(ToDouyin(o))
	if err != nil || d.Lines[0] != o.Lines[0] || !d.PlatformTime.Equal(o.PlatformTime) || d.Receiver != o.Receiver {
		t.Fatalf("Douyin: %+v %v", d, err)
	}
}

func TestMalformedOrdersAreRefused(t *testing.T) {
	for _, body := range []string{`not json`, `{"order_no":""}`, `{"order_no":"X","items":[]}`, `{"order_no":"X","items":[{"item_code":"","quantity":1}]}`} {
		if _, err := ParseYuedian([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", body, err)
		}
	}
	f := MeituanOrderForm(order())
	f.Set("total", "12.345")
	if _, err := ParseMeituan(f, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("three decimals: %v", err)
	}
}

func TestSignaturesWindowAndKeys(t *testing.T) {
	k := Keys{AppKey: "app", Secret: "s3cr3t-s3cr3t-s3cr3t"}
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"a":1}`)
	r, _ := http.NewRequest("POST", "/", nil)
	SignYuedianRequest(r, k, now, body)
	if n, err := VerifyYuedian(r.Header, body, k, now.Add(time.Minute), 5*time.Minute); err != nil || n == "" {
		t.Fatalf("a signed request: %v", err)
	}
	for name, c := range map[string]struct {
		body []byte
		k    Keys
		at   time.Time
		want error
	}{
		"other body":   {[]byte(`{"a":2}`), k, now, ErrSignature},
		"other secret": {body, Keys{AppKey: "app", Secret: "x"}, now, ErrSignature},
		"other app":    {body, Keys{AppKey: "b", Secret: k.Secret}, now, ErrAppKey},
		"too late":     {body, k, now.Add(6 * time.Minute), ErrStale},
		"too early":    {body, k, now.Add(-6 * time.Minute), ErrStale},
	} {
		if _, err := VerifyYuedian(r.Header, c.body, c.k, c.at, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	f := url.Values{"order_id": {"1"}}
	SignMeituanForm(f, PushPathMeituan, k, now)
	if _, err := VerifyMeituan(f, PushPathMeituan, k, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyMeituan(f, "/other/path", k, now, time.Minute); !errors.Is(err, ErrSignature) {
		t.Fatalf("signed for another path: %v", err)
	}
	q := url.Values{"page": {"0"}}
	SignDouyinQuery(q, k, now)
	q.Set("page", "1")
	if err := VerifyDouyin(q, k, now, time.Minute); !errors.Is(err, ErrSignature) {
		t.Fatalf("a changed page: %v", err)
	}
	for _, p := range Names {
		path, h, b := StatusRequest(StatusUpdate{Platform: p, PlatformOrderID: "P1", Status: StatusShipped, UpdateID: "U1", At: now, Token: "T1"}, k, now)
		u, _ := url.Parse(path)
		got, err := ParseStatus(p, u.Path, u.Query(), func(n string) string { return h[n] }, b, k, now, time.Minute)
		if err != nil || got.PlatformOrderID != "P1" || got.Status != StatusShipped || got.UpdateID != "U1" {
			t.Errorf("%s status: %+v %v", p, got, err)
		}
		if p == Youzan { // a token, not a signature: the platform checks it is one it issued
			if got.Token != "T1" {
				t.Errorf("Youzan status carried token %q", got.Token)
			}
			continue
		}
		if _, err := ParseStatus(p, u.Path, u.Query(), func(n string) string { return h[n] }, b, Keys{AppKey: "app", Secret: "wrong"}, now, time.Minute); err == nil {
			t.Errorf("%s status verified with the wrong secret", p)
		}
	}
}

func TestElemeEnvelopeIsSignedInsideTheBody(t *testing.T) {
	k := Keys{AppKey: "48150001", Secret: "s3cr3t-s3cr3t-s3cr3t"}
	now := time.Unix(1_800_000_000, 0)
	o := order()
	o.ShopID = "1001"
	p, err := ParseElemePush(ElemePushBody(o, k, now))
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != ElemeOrderEffective || p.Timestamp != now.UnixMilli() || p.Signature != strings.ToUpper(p.Signature) {
		t.Fatalf("envelope %+v", p)
	}
	if n, err := VerifyEleme(p, k, now.Add(time.Minute), 5*time.Minute); err != nil || n != p.RequestID {
		t.Fatalf("a signed push: %q %v", n, err)
	}
	got, err := ParseElemeOrder(p.Message, nil)
	if err != nil || got.PlatformOrderID != "P1" || got.Lines[0] != o.Lines[0] || got.TotalFen != 1234 || got.Receiver != o.Receiver ||
		got.SlotType != SlotNextDay || got.SlotDate != o.SlotDate || !got.PlatformTime.Equal(o.PlatformTime) || got.ShopID != "1001" {
		t.Fatalf("Ele.me order: %+v %v", got, err)
	}
	for name, c := range map[string]struct {
		change func(*ElemePush)
		k      Keys
		at     time.Time
		want   error
	}{
		"other message":    {func(p *ElemePush) { p.Message = strings.Replace(p.Message, `"quantity":2`, `"quantity":20`, 1) }, k, now, ErrSignature},
		"other request id": {func(p *ElemePush) { p.RequestID = "other" }, k, now, ErrSignature},
		"no request id":    {func(p *ElemePush) { p.RequestID = ""; p.Signature = ElemeSign(k.Secret, *p) }, k, now, ErrSignature},
		"other secret":     {func(*ElemePush) {}, Keys{AppKey: k.AppKey, Secret: "x"}, now, ErrSignature},
		"other app":        {func(*ElemePush) {}, Keys{AppKey: "1", Secret: k.Secret}, now, ErrAppKey},
		"too late":         {func(*ElemePush) {}, k, now.Add(6 * time.Minute), ErrStale},
	} {
		q := p
		c.change(&q)
		if _, err := VerifyEleme(q, c.k, c.at, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	express := order()
	express.SlotType = SlotExpress
	p, _ = ParseElemePush(ElemePushBody(express, k, now))
	if got, err := ParseElemeOrder(p.Message, nil); err != nil || got.SlotType != SlotExpress || got.SlotDate != express.PlatformTime.In(Shanghai).Format(time.DateOnly) {
		t.Fatalf("deliverTime null: %+v %v", got, err)
	}
	for _, m := range []string{`not json`, `{"id":"X","createdAt":"2027-01-01T10:00:00","totalPrice":1,"groups":[]}`,
		`{"id":"X","createdAt":"yesterday","totalPrice":1}`, `{"id":"X","createdAt":"2027-01-01T10:00:00","totalPrice":"1.234"}`} {
		if _, err := ParseElemeOrder(m, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", m, err)
		}
	}
}

func TestYouzanTradeRoundTripsToTheSecondInBeijingTime(t *testing.T) {
	o := order()
	created := o.PlatformTime.Add(-time.Hour)
	w := ToYouzan(o, created)
	if w.FullOrderInfo.OrderInfo.UpdateTime != o.PlatformTime.In(Shanghai).Format(time.DateTime) {
		t.Fatalf("update_time %q", w.FullOrderInfo.OrderInfo.UpdateTime)
	}
	got, err := FromYouzan(w)
	if err != nil || got.Lines[0] != o.Lines[0] || got.TotalFen != 1234 || !got.PlatformTime.Equal(o.PlatformTime) ||
		got.Receiver != o.Receiver || got.SlotType != SlotNextDay || got.SlotDate != o.SlotDate {
		t.Fatalf("Youzan: %+v %v", got, err)
	}
	w.FullOrderInfo.PayInfo.Payment = "12,34"
	if _, err := FromYouzan(w); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a bad payment: %v", err)
	}
	q := YouzanPageQuery("tok", o.PlatformTime, o.PlatformTime.Add(time.Second), 2, 50)
	if q.Get("update_time_start") != w.FullOrderInfo.OrderInfo.UpdateTime || q.Get("page_no") != "2" || q.Get("access_token") != "tok" {
		t.Fatalf("query %v", q)
	}
}
