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
	svc := app.New(app.Deps{Store: st, Nonces: app.NonceStore{R: rdb, Prefix: prefix}, Keys: platforms.DevKeys, Window: 5 * time.Minute})
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
	if code, m := post(f); code != 409 || m["data"] != "ng" {
		t.Fatalf("replayed form: %d %v", code, m)
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
