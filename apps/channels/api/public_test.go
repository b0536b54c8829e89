package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/channels/api"
	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// pushEnv is channels' public listener over a real database and Redis.
type pushEnv struct {
	srv *httptest.Server
	st  *store.Store
}

func newPushEnv(t *testing.T) *pushEnv {
	t.Helper()
	db, _ := testdb.New(t, "channels")
	rdb, prefix := testdb.Redis(t)
	st := store.New(db)
	svc := app.New(app.Deps{Store: st, Nonces: app.NewNonceStore(rdb, prefix), Keys: platforms.DevKeys, Window: 5 * time.Minute})
	r := chi.NewRouter()
	api.MountPublic(r, svc, nil)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &pushEnv{srv: srv, st: st}
}

func sampleOrder(id string) platforms.Order {
	return platforms.Order{PlatformOrderID: id, ShopID: "S1", TotalFen: 11500, PlatformTime: time.Now().UTC().Truncate(time.Second),
		Receiver: platforms.Receiver{Name: "Li Lei", Phone: "13800138000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "1 Century Ave"},
		SlotType: platforms.SlotNextDay, SlotDate: time.Now().In(platforms.Shanghai).AddDate(0, 0, 1).Format(time.DateOnly),
		Lines: []platforms.Line{{PlatformSKU: "YD-00010", Qty: 2, UnitPriceFen: 5750}}}
}

// yuedianReq builds a signed Yuedian push of body at ts.
func (e *pushEnv) yuedianReq(t *testing.T, body []byte, k platforms.Keys, ts time.Time) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+platforms.PushPathYuedian, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	platforms.SignYuedianRequest(req, k, ts, body)
	return req
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	if req.GetBody != nil {
		req.Body, _ = req.GetBody()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func acceptID(m map[string]any) string {
	if s, ok := m["acceptId"].(string); ok { // Ele.me's
		return s
	}
	if d, ok := m["data"].(map[string]any); ok {
		s, _ := d["accept_id"].(string)
		return s
	}
	s, _ := m["accept_id"].(string)
	return s
}

func (e *pushEnv) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// nothingStaged checks that no staging row nor message was written.
func (e *pushEnv) staged(t *testing.T, want int) {
	t.Helper()
	for _, tb := range []string{"staging_process", "staging_main"} {
		if n := e.count(t, tb); n != want {
			t.Fatalf("%s holds %d rows, want %d", tb, n, want)
		}
	}
	// Each staged order is named by one channels.order.received, once.
	named := map[string]int{}
	rows, err := e.st.DB().Query(`SELECT payload FROM outbox WHERE topic=?`, events.TopicOrderReceived)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		list, err := events.IDsOf(events.TopicOrderReceived, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range list {
			named[id]++
		}
	}
	if len(named) != want {
		t.Fatalf("received messages name %d orders, want %d", len(named), want)
	}
	for id, n := range named {
		var c int
		_ = e.st.DB().QueryRow(`SELECT COUNT(*) FROM staging_process WHERE id=?`, id).Scan(&c)
		if n != 1 || c != 1 {
			t.Fatalf("order %s named by %d messages, %d staged rows", id, n, c)
		}
	}
}

func TestYuedianPushRefusesForgedStaleAndReplayed(t *testing.T) {
	e := newPushEnv(t)
	k := platforms.DevKeys[platforms.Yuedian]
	body := platforms.YuedianOrderBody(sampleOrder("YD-1"))

	forged := e.yuedianReq(t, body, platforms.Keys{AppKey: k.AppKey, Secret: "not-the-secret"}, time.Now())
	if code, m := do(t, forged); code != 401 || m["code"] != float64(platforms.YdBadSign) {
		t.Fatalf("forged signature: %d %v", code, m)
	}
	signed := e.yuedianReq(t, body, k, time.Now())
	tampered := e.yuedianReq(t, bytes.Replace(body, []byte(`"quantity":2`), []byte(`"quantity":200`), 1), k, time.Now())
	for _, h := range []string{platforms.HeaderYdTimestamp, platforms.HeaderYdNonce, platforms.HeaderYdSign} {
		tampered.Header.Set(h, signed.Header.Get(h))
	}
	if code, m := do(t, tampered); code != 401 || m["code"] != float64(platforms.YdBadSign) {
		t.Fatalf("body changed after signing: %d %v", code, m)
	}
	wrongApp := e.yuedianReq(t, body, platforms.Keys{AppKey: "someone-else", Secret: k.Secret}, time.Now())
	if code, m := do(t, wrongApp); code != 401 || m["code"] != float64(platforms.YdBadAppKey) {
		t.Fatalf("unknown app key: %d %v", code, m)
	}
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		stale := e.yuedianReq(t, body, k, time.Now().Add(skew))
		if code, m := do(t, stale); code != 401 || m["code"] != float64(platforms.YdStale) {
			t.Fatalf("timestamp %s off: %d %v", skew, code, m)
		}
	}
	e.staged(t, 0)

	first := e.yuedianReq(t, body, k, time.Now())
	replay := e.yuedianReq(t, body, k, time.Now())
	for _, h := range []string{platforms.HeaderYdTimestamp, platforms.HeaderYdNonce, platforms.HeaderYdSign} {
		replay.Header.Set(h, first.Header.Get(h))
	}
	code, m := do(t, first)
	if code != 200 || m["code"] != float64(0) || acceptID(m) == "" {
		t.Fatalf("signed push: %d %v", code, m)
	}
	if code, m := do(t, replay); code != 409 || m["code"] != float64(platforms.YdReplayed) {
		t.Fatalf("replayed request: %d %v", code, m)
	}
	e.staged(t, 1)

	bad := []byte(`{"order_no":"YD-2","items":"two apples"}`)
	if code, m := do(t, e.yuedianReq(t, bad, k, time.Now())); code != 400 || m["code"] != float64(platforms.YdMalformed) {
		t.Fatalf("malformed order: %d %v", code, m)
	}
	noLines := platforms.YuedianOrderBody(platforms.Order{PlatformOrderID: "YD-3", PlatformTime: time.Now()})
	if code, m := do(t, e.yuedianReq(t, noLines, k, time.Now())); code != 400 || !strings.Contains(fmt.Sprint(m["message"]), "lines") {
		t.Fatalf("order without lines: %d %v", code, m)
	}
	e.staged(t, 1)
}

func TestYuedianSameOrderPushedTwiceAndConcurrentlyGetsTheFirstAnswer(t *testing.T) {
	e := newPushEnv(t)
	k := platforms.DevKeys[platforms.Yuedian]
	body := platforms.YuedianOrderBody(sampleOrder("YD-SAME"))
	_, m := do(t, e.yuedianReq(t, body, k, time.Now()))
	first := acceptID(m)
	_, m = do(t, e.yuedianReq(t, body, k, time.Now())) // the platform's retry: new nonce, same order
	if first == "" || acceptID(m) != first {
		t.Fatalf("second push answered %v, want accept id %s", m, first)
	}

	// 30 pushes of one new order and 40 of distinct orders, all at once.
	const same, distinct = 30, 40
	var wg sync.WaitGroup
	answers := make([]string, same)
	codes := make([]int, same+distinct)
	start := make(chan struct{})
	for i := range same + distinct {
		id := "YD-RACE"
		if i >= same {
			id = fmt.Sprintf("YD-D%03d", i)
		}
		req := e.yuedianReq(t, platforms.YuedianOrderBody(sampleOrder(id)), k, time.Now())
		wg.Go(func() {
			<-start
			code, m := do(t, req)
			codes[i] = code
			if i < same {
				answers[i] = acceptID(m)
			}
		})
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("push %d answered %d", i, c)
		}
	}
	for i, a := range answers {
		if a == "" || a != answers[0] {
			t.Fatalf("concurrent push %d answered %q, push 0 %q", i, a, answers[0])
		}
	}
	e.staged(t, 2+distinct)
	var n int
	_ = e.st.DB().QueryRow(`SELECT COUNT(*) FROM staging_detail WHERE process_id=?`, answers[0]).Scan(&n)
	if n != 1 {
		t.Fatalf("the raced order has %d lines stored, want 1", n)
	}
}

func TestMeituanPushVerifiesItsSignatureAndIsIdempotent(t *testing.T) {
	e := newPushEnv(t)
	k := platforms.DevKeys[platforms.Meituan]
	post := func(f url.Values) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+platforms.PushPathMeituan, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, req)
	}
	o := sampleOrder("MT-1")
	f := platforms.MeituanOrderForm(o)
	platforms.SignMeituanForm(f, platforms.PushPathMeituan, k, time.Now())
	code, m := post(f)
	if code != 200 || m["data"] != "ok" || acceptID(m) == "" {
		t.Fatalf("signed push: %d %v", code, m)
	}
	id := acceptID(m)
	if code, m := post(f); code != 200 || acceptID(m) != id {
		t.Fatalf("identical resend: %d %v, want the first answer %s", code, m, id)
	}
	again := platforms.MeituanOrderForm(o)
	platforms.SignMeituanForm(again, platforms.PushPathMeituan, k, time.Now().Add(time.Second))
	if code, m := post(again); code != 200 || acceptID(m) != id {
		t.Fatalf("same order again: %d %v, want %s", code, m, id)
	}
	forged := platforms.MeituanOrderForm(o)
	platforms.SignMeituanForm(forged, platforms.PushPathMeituan, k, time.Now())
	forged.Set("total", "0.01")
	if code, m := post(forged); code != 401 {
		t.Fatalf("form changed after signing: %d %v", code, m)
	}
	stale := platforms.MeituanOrderForm(sampleOrder("MT-2"))
	platforms.SignMeituanForm(stale, platforms.PushPathMeituan, k, time.Now().Add(-10*time.Minute))
	if code, m := post(stale); code != 401 {
		t.Fatalf("stale form: %d %v", code, m)
	}
	e.staged(t, 1)
	var total int64
	_ = e.st.DB().QueryRow(`SELECT m.total_fen FROM staging_main m WHERE m.process_id=?`, id).Scan(&total)
	if total != 11500 {
		t.Fatalf("total staged %d fen, want 11500 (115.00 yuan)", total)
	}
}

func (e *pushEnv) postMeituan(t *testing.T, f url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+platforms.PushPathMeituan, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// Meituan's signature is its only nonce and its retry resends the very
// bytes it signed: that resend, alone or many at once, gets the first
// answer; the same signature over other content (fields re-cut at an
// "&" so the signed string is unchanged) is a replay, and an identical
// resend past the window is stale.
func TestMeituanIdenticalResendGetsTheFirstAnswerWhileAReplayWithOtherContentOrAStaleOneIsRefused(t *testing.T) {
	e := newPushEnv(t)
	k := platforms.DevKeys[platforms.Meituan]
	f := platforms.MeituanOrderForm(sampleOrder("MT-RESEND"))
	platforms.SignMeituanForm(f, platforms.PushPathMeituan, k, time.Now())
	code, m := e.postMeituan(t, f)
	first := acceptID(m)
	if code != 200 || first == "" {
		t.Fatalf("signed push: %d %v", code, m)
	}
	var wg sync.WaitGroup
	answers := make([]string, 20)
	for i := range answers {
		wg.Go(func() {
			if code, m := e.postMeituan(t, f); code == 200 {
				answers[i] = acceptID(m)
			}
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a != first {
			t.Fatalf("identical resend %d answered %q, want %q", i, a, first)
		}
	}
	// The signed string is the sorted k=v joined by "&": moving
	// recipient_city into recipient_address's value keeps it, and the
	// signature verifies, over another order.
	recut := url.Values{}
	for key := range f {
		recut.Set(key, f.Get(key))
	}
	recut.Set("recipient_address", f.Get("recipient_address")+"&recipient_city="+f.Get("recipient_city"))
	recut.Del("recipient_city")
	if _, err := platforms.VerifyMeituan(recut, platforms.PushPathMeituan, k, time.Now(), time.Minute); err != nil {
		t.Fatalf("the re-cut form should verify (that is the attack): %v", err)
	}
	if code, m := e.postMeituan(t, recut); code != 409 || m["data"] != "ng" {
		t.Fatalf("same signature, other content: %d %v", code, m)
	}
	old := platforms.MeituanOrderForm(sampleOrder("MT-OLD"))
	platforms.SignMeituanForm(old, platforms.PushPathMeituan, k, time.Now().Add(-6*time.Minute))
	for range 2 {
		if code, m := e.postMeituan(t, old); code != 401 || m["error"].(map[string]any)["code"] != float64(platforms.MtStale) {
			t.Fatalf("a stale resend: %d %v", code, m)
		}
	}
	e.staged(t, 1)
	var city string
	_ = e.st.DB().QueryRow(`SELECT city FROM staging_main WHERE process_id=?`, first).Scan(&city)
	if city != "Shanghai" {
		t.Fatalf("staged city %q", city)
	}
}

// elemePush posts an Ele.me envelope.
func (e *pushEnv) elemePush(t *testing.T, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+platforms.PushPathEleme, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func elemeOrder(id string) platforms.Order {
	o := sampleOrder(id)
	o.Platform, o.ShopID, o.Lines = platforms.Eleme, "1001", []platforms.Line{{PlatformSKU: "EL-00010", Qty: 2, UnitPriceFen: 5750}}
	return o
}

func resign(k platforms.Keys, p platforms.ElemePush) []byte {
	p.Signature = platforms.ElemeSign(k.Secret, p)
	b, _ := json.Marshal(p)
	return b
}

func TestElemePushRefusesForgedStaleAndReplayed(t *testing.T) {
	e := newPushEnv(t)
	k := platforms.DevKeys[platforms.Eleme]
	o := elemeOrder("EL-1")
	forged := platforms.ElemePushBody(o, platforms.Keys{AppKey: k.AppKey, Secret: "not-the-secret"}, time.Now())
	if code, m := e.elemePush(t, forged); code != 401 || m["code"] != platforms.ElBadSign {
		t.Fatalf("forged: %d %v", code, m)
	}
	env, _ := platforms.ParseElemePush(platforms.ElemePushBody(o, k, time.Now()))
	tampered := env
	tampered.Message = strings.Replace(env.Message, `"quantity":2`, `"quantity":200`, 1)
	b, _ := json.Marshal(tampered)
	if code, m := e.elemePush(t, b); code != 401 || m["code"] != platforms.ElBadSign {
		t.Fatalf("message changed after signing: %d %v", code, m)
	}
	if code, m := e.elemePush(t, platforms.ElemePushBody(o, platforms.Keys{AppKey: "999", Secret: k.Secret}, time.Now())); code != 401 || m["code"] != platforms.ElBadApp {
		t.Fatalf("other app: %d %v", code, m)
	}
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		if code, m := e.elemePush(t, platforms.ElemePushBody(o, k, time.Now().Add(skew))); code != 401 || m["code"] != platforms.ElStale {
			t.Fatalf("timestamp %s off: %d %v", skew, code, m)
		}
	}
	noID := env
	noID.RequestID = ""
	if code, m := e.elemePush(t, resign(k, noID)); code != 401 || m["code"] != platforms.ElBadSign {
		t.Fatalf("no request id: %d %v", code, m)
	}
	for _, bad := range []string{`not json`, `{"requestId":`} {
		if code, m := e.elemePush(t, []byte(bad)); code != 400 || m["code"] != platforms.ElMalformed {
			t.Fatalf("%s: %d %v", bad, code, m)
		}
	}
	e.staged(t, 0)

	signed, _ := json.Marshal(env)
	code, m := e.elemePush(t, signed)
	if code != 200 || m["message"] != "ok" || acceptID(m) == "" {
		t.Fatalf("signed push: %d %v", code, m)
	}
	if code, m := e.elemePush(t, signed); code != 409 || m["code"] != platforms.ElReplayed {
		t.Fatalf("replayed request id: %d %v", code, m)
	}
	e.staged(t, 1)

	// Signed, but no order: refused in Ele.me's code, nothing stored.
	bad := env
	bad.RequestID, bad.Message = platforms.Nonce(), `{"id":"EL-2","createdAt":"2027-01-01T10:00:00","totalPrice":"1.00","groups":"a basket"}`
	if code, m := e.elemePush(t, resign(k, bad)); code != 400 || m["code"] != platforms.ElMalformed {
		t.Fatalf("malformed order: %d %v", code, m)
	}
	// Another message type (the order's cancellation by the shop, say) is
	// acknowledged, as Ele.me expects, and stages nothing.
	other := env
	other.RequestID, other.Type = platforms.Nonce(), 14
	if code, m := e.elemePush(t, resign(k, other)); code != 200 || m["message"] != "ok" || acceptID(m) != "" {
		t.Fatalf("message type 14: %d %v", code, m)
	}
	e.staged(t, 1)
}

func TestElemeSameOrderPushedTwiceAndConcurrentlyGetsTheFirstAnswerWithinItsTimeout(t *testing.T) {
	e := newPushEnv(t)
	k := platforms.DevKeys[platforms.Eleme]
	_, m := e.elemePush(t, platforms.ElemePushBody(elemeOrder("EL-SAME"), k, time.Now()))
	first := acceptID(m)
	_, m = e.elemePush(t, platforms.ElemePushBody(elemeOrder("EL-SAME"), k, time.Now())) // Ele.me's retry: a new request id
	if first == "" || acceptID(m) != first {
		t.Fatalf("second push answered %v, want %s", m, first)
	}
	const same, distinct = 30, 40
	var wg sync.WaitGroup
	answers := make([]string, same)
	slow := make([]time.Duration, same+distinct)
	codes := make([]int, same+distinct)
	start := make(chan struct{})
	for i := range same + distinct {
		id := "EL-RACE"
		if i >= same {
			id = fmt.Sprintf("EL-D%03d", i)
		}
		body := platforms.ElemePushBody(elemeOrder(id), k, time.Now())
		wg.Go(func() {
			<-start
			t0 := time.Now()
			code, m := e.elemePush(t, body)
			codes[i], slow[i] = code, time.Since(t0)
			if i < same {
				answers[i] = acceptID(m)
			}
		})
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != 200 || slow[i] >= platforms.ElemeTimeout {
			t.Fatalf("push %d answered %d after %s (Ele.me waits %s)", i, c, slow[i], platforms.ElemeTimeout)
		}
	}
	for i, a := range answers {
		if a == "" || a != answers[0] {
			t.Fatalf("concurrent push %d answered %q, push 0 %q", i, a, answers[0])
		}
	}
	e.staged(t, 2+distinct)
	var n int
	_ = e.st.DB().QueryRow(`SELECT COUNT(*) FROM staging_detail WHERE process_id=?`, answers[0]).Scan(&n)
	if n != 1 {
		t.Fatalf("the raced order has %d lines stored, want 1", n)
	}
	var sku, shop string
	_ = e.st.DB().QueryRow(`SELECT d.platform_sku, m.shop_id FROM staging_detail d JOIN staging_main m ON m.process_id=d.process_id WHERE d.process_id=?`, first).Scan(&sku, &shop)
	if sku != "EL-00010" || shop != "1001" {
		t.Fatalf("staged sku %q shop %q", sku, shop)
	}
}
