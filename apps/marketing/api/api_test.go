package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/xuri/excelize/v2"

	"github.com/harvest/harvest/apps/marketing/api"
	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/candidates"
	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/group/grouptest"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

var t0 = time.Date(2025, 11, 11, 0, 0, 0, 0, time.UTC)

// sidecar stands in for daprd's service invocation API, so the real
// daprx.Invoker and marketingclient talk HTTP to marketing's real router.
type sidecar struct{ h http.Handler }

func (s sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/"+mc.AppID+"/method/")
	if !ok {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.RequestURI = "/"+method, ""
	s.h.ServeHTTP(w, r2)
}

type env struct {
	c   *mc.Client
	srv *httptest.Server // marketing's router, for the raw .xlsx upload
	st  *store.Store
}

func setup(t *testing.T) env {
	t.Helper()
	db, _ := testdb.New(t, "marketing")
	// The MariaDB server is shared by everyone's tests: 16 connections
	// still race for the same rows, without crowding others out.
	db.SetMaxOpenConns(16)
	st := store.New(db)
	m := chi.NewRouter()
	api.Mount(m, app.New(st, clock.NewFixed(t0.Add(2*time.Hour)), nil))
	direct := httptest.NewServer(m)
	t.Cleanup(direct.Close)
	sc := httptest.NewServer(sidecar{m})
	t.Cleanup(sc.Close)
	u, _ := url.Parse(sc.URL)
	port, _ := strconv.Atoi(u.Port())
	return env{c: mc.New(daprx.NewInvoker(port)), srv: direct, st: st}
}

func workbook(t *testing.T, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e env) upload(t *testing.T, campaignID, contentType string, file []byte) (int, mc.ImportReport, httpapi.Problem) {
	t.Helper()
	resp, err := http.Post(e.srv.URL+"/v1/campaigns/"+campaignID+"/candidates", contentType, bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep mc.ImportReport
	var p httpapi.Problem
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&rep)
	} else {
		err = json.NewDecoder(resp.Body).Decode(&p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep, p
}

func (e env) campaign(t *testing.T, req mc.CreateCampaignRequest, candidates ...string) mc.Campaign {
	t.Helper()
	if req.Name == "" {
		req.Name = "赠品活动"
	}
	if req.StartsAt.IsZero() {
		req.StartsAt, req.EndsAt = t0, t0.Add(24*time.Hour)
	}
	if req.Gift.SKU == "" {
		req.Gift = mc.Gift{SKU: "GIFT-1", QtyPerOrder: 1, Stock: 100}
	}
	c, err := e.c.CreateCampaign(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(candidates) > 0 {
		rows := [][]any{{"customer_id"}}
		for _, id := range candidates {
			rows = append(rows, []any{id})
		}
		if code, rep, p := e.upload(t, c.ID, mc.XLSXContentType, workbook(t, rows...)); code != http.StatusOK || rep.Imported != int64(len(candidates)) {
			t.Fatalf("import: %d %+v %+v", code, rep, p)
		}
	}
	return c
}

func query(order, customer string, goods money.Fen, skus ...string) mc.GiftQuery {
	q := mc.GiftQuery{OrderID: order, CustomerID: customer, GoodsFen: goods, PlacedAt: t0.Add(time.Hour)}
	for _, s := range skus {
		q.Lines = append(q.Lines, mc.OrderLine{SKU: s, Qty: 1, AmountFen: 100})
	}
	return q
}

func TestCampaignCreateListAndKey(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	req := mc.CreateCampaignRequest{IdempotencyKey: "k1", Name: "满99赠鸡蛋", StartsAt: t0, EndsAt: t0.Add(48 * time.Hour),
		Conditions:        mc.Conditions{MinGoodsFen: 9_900, RequiredSKUs: []string{"SKU-1", "SKU-2"}},
		ExcludedCustomers: []string{"U9", "U8"}, Gift: mc.Gift{SKU: "EGG-6", QtyPerOrder: 2, Stock: 50}}
	c, err := e.c.CreateCampaign(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phase != "ACTIVE" || c.GiftStockLeft != 50 || c.Conditions.MinGoodsFen != 9_900 || len(c.Conditions.RequiredSKUs) != 2 ||
		len(c.ExcludedCustomers) != 2 || c.Gift.QtyPerOrder != 2 || !c.StartsAt.Equal(t0) {
		t.Fatalf("created %+v", c)
	}
	again, err := e.c.CreateCampaign(ctx, req)
	if err != nil || again.ID != c.ID {
		t.Fatalf("retry: %+v %v", again, err)
	}
	req.Gift.Stock = 51
	if _, err := e.c.CreateCampaign(ctx, req); !httpapi.HasCode(err, mc.CodeKeyReused) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := e.c.CreateCampaign(ctx, mc.CreateCampaignRequest{Name: "x", StartsAt: t0, EndsAt: t0}); !httpapi.HasCode(err, mc.CodeValidation) {
		t.Fatalf("invalid: %v", err)
	}
	e.campaign(t, mc.CreateCampaignRequest{Name: "second"})
	page, err := e.c.Campaigns(ctx, "", 1)
	if err != nil || len(page.Items) != 1 || page.Items[0].Name != "second" || page.NextBefore == "" {
		t.Fatalf("page 1: %+v %v", page, err)
	}
	page, err = e.c.Campaigns(ctx, page.NextBefore, 1)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != c.ID {
		t.Fatalf("page 2: %+v %v", page, err)
	}
	if _, err := e.c.Campaign(ctx, "nope"); !httpapi.HasCode(err, mc.CodeNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestImportCandidates(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	c := e.campaign(t, mc.CreateCampaignRequest{})

	good := workbook(t, []any{"姓名", "客户ID"}, []any{"张三", "U1"}, []any{"李四", "U2"}, []any{"王五", "U1"},
		[]any{"赵六", ""}, []any{"钱七", "bad id!"}, []any{"孙八", "U3"})
	code, rep, p := e.upload(t, c.ID, mc.XLSXContentType, good)
	if code != http.StatusOK {
		t.Fatalf("import: %d %+v", code, p)
	}
	if rep.Imported != 3 || rep.Duplicates != 1 || fmt.Sprint(rep.DuplicateRows) != "[4]" || len(rep.InvalidRows) != 2 ||
		rep.InvalidRows[0].Row != 5 || rep.InvalidRows[1].Row != 6 || rep.Candidates != 3 || rep.DataRows != 6 {
		t.Fatalf("report %+v", rep)
	}

	// The same list again plus one new id: only the new one is imported.
	code, rep, _ = e.upload(t, c.ID, mc.XLSXContentType, workbook(t, []any{"customer_id"}, []any{"U1"}, []any{"U4"}))
	if code != http.StatusOK || rep.Imported != 1 || rep.AlreadyListed != 1 || rep.Duplicates != 1 || rep.Candidates != 4 {
		t.Fatalf("second import: %d %+v", code, rep)
	}

	// Malformed files import nothing.
	for name, file := range map[string][]byte{
		"missing column": workbook(t, []any{"name", "phone"}, []any{"U5", "138"}),
		"not xlsx":       []byte("customer_id\nU5\n"),
	} {
		code, _, p := e.upload(t, c.ID, mc.XLSXContentType, file)
		if code != http.StatusUnprocessableEntity || p.Code != mc.CodeMalformedFile {
			t.Fatalf("%s: %d %+v", name, code, p)
		}
	}
	if code, _, p := e.upload(t, c.ID, "text/csv", good); code != http.StatusUnsupportedMediaType || p.Code != mc.CodeUnsupported {
		t.Fatalf("csv: %d %+v", code, p)
	}
	if code, _, p := e.upload(t, "nope", mc.XLSXContentType, good); code != http.StatusNotFound || p.Code != mc.CodeNotFound {
		t.Fatalf("unknown campaign: %d %+v", code, p)
	}
	got, err := e.c.Campaign(ctx, c.ID)
	if err != nil || got.Candidates != 4 {
		t.Fatalf("after malformed imports: %+v %v", got, err)
	}
	var imports int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM candidate_imports WHERE campaign_id=?`, c.ID).Scan(&imports); err != nil || imports != 2 {
		t.Fatalf("import records = %d, %v", imports, err)
	}
}

func TestGrantRules(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	// Active, min 99 yuan and SKU-1 required; U2 excluded.
	cond := e.campaign(t, mc.CreateCampaignRequest{Name: "cond", Conditions: mc.Conditions{MinGoodsFen: 9_900, RequiredSKUs: []string{"SKU-1"}},
		ExcludedCustomers: []string{"U2"}, Gift: mc.Gift{SKU: "GIFT-A", QtyPerOrder: 2, Stock: 100}}, "U1", "U2", "U3")
	// Ended before the orders were placed.
	e.campaign(t, mc.CreateCampaignRequest{Name: "past", StartsAt: t0.Add(-48 * time.Hour), EndsAt: t0,
		Gift: mc.Gift{SKU: "GIFT-P", QtyPerOrder: 1, Stock: 10}}, "U1", "U3")
	// Starts after.
	e.campaign(t, mc.CreateCampaignRequest{Name: "future", StartsAt: t0.Add(48 * time.Hour), EndsAt: t0.Add(72 * time.Hour),
		Gift: mc.Gift{SKU: "GIFT-F", QtyPerOrder: 1, Stock: 10}}, "U1", "U3")
	// No conditions, one unit left.
	one := e.campaign(t, mc.CreateCampaignRequest{Name: "one", Gift: mc.Gift{SKU: "GIFT-1", QtyPerOrder: 1, Stock: 1}}, "U3", "U4")

	cases := []struct {
		name string
		q    mc.GiftQuery
		want string
	}{
		{"candidate meeting conditions", query("O1", "U1", 10_000, "SKU-1"), "GIFT-A×2"},
		{"excluded candidate", query("O2", "U2", 10_000, "SKU-1"), ""},
		{"not a candidate", query("O3", "U9", 10_000, "SKU-1"), ""},
		{"below minimum", query("O4", "U1", 9_899, "SKU-1"), ""},
		{"required sku missing", query("O5", "U1", 10_000, "SKU-2"), ""},
		{"two campaigns at once", query("O6", "U3", 10_000, "SKU-1"), "GIFT-A×2 GIFT-1×1"},
		{"stock exhausted", query("O7", "U4", 0), ""},
	}
	for _, tc := range cases {
		gs, err := e.c.GiftsFor(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, g := range gs {
			got = append(got, fmt.Sprintf("%s×%d", g.SKU, g.Qty))
		}
		if strings.Join(got, " ") != tc.want {
			t.Fatalf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// Placed inside the window of "past": the window is judged at placing time.
	q := query("O8", "U1", 0)
	q.PlacedAt = t0.Add(-time.Hour)
	if gs, err := e.c.GiftsFor(ctx, q); err != nil || len(gs) != 1 || gs[0].SKU != "GIFT-P" {
		t.Fatalf("past window: %+v %v", gs, err)
	}
	for id, left := range map[string]int64{cond.ID: 96, one.ID: 0} {
		c, err := e.c.Campaign(ctx, id)
		if err != nil || c.GiftStockLeft != left {
			t.Fatalf("%s stock left %d, want %d (%v)", id, c.GiftStockLeft, left, err)
		}
	}
	if _, err := e.c.GiftsFor(ctx, mc.GiftQuery{OrderID: "O9"}); !httpapi.HasCode(err, mc.CodeValidation) {
		t.Fatalf("invalid query: %v", err)
	}
}

func TestGrantIdempotent(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	c := e.campaign(t, mc.CreateCampaignRequest{Gift: mc.Gift{SKU: "GIFT-1", QtyPerOrder: 3, Stock: 10}}, "U1")
	q := query("O1", "U1", 100, "SKU-1")
	first, err := e.c.GiftsFor(ctx, q)
	if err != nil || len(first) != 1 {
		t.Fatalf("first: %+v %v", first, err)
	}
	// Concurrent repeats and a late one: the same grants, no second unit taken.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			gs, err := e.c.GiftsFor(ctx, q)
			if err == nil && (len(gs) != 1 || gs[0] != first[0]) {
				err = fmt.Errorf("repeat answered %+v", gs)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A campaign created after the first evaluation does not change the answer.
	e.campaign(t, mc.CreateCampaignRequest{Name: "later"}, "U1")
	if gs, err := e.c.GiftsFor(ctx, q); err != nil || len(gs) != 1 || gs[0] != first[0] {
		t.Fatalf("after new campaign: %+v %v", gs, err)
	}
	got, _ := e.c.Campaign(ctx, c.ID)
	if got.GiftStockLeft != 7 {
		t.Fatalf("stock left %d, want 7", got.GiftStockLeft)
	}
	q.GoodsFen++
	if _, err := e.c.GiftsFor(ctx, q); !httpapi.HasCode(err, mc.CodeKeyReused) {
		t.Fatalf("other input: %v", err)
	}
	var n int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM gift_grants WHERE order_id='O1'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("grant rows = %d, %v", n, err)
	}
}

// TestGrantRaceForLastUnits: N orders race for the last K gift units;
// exactly K get the gift and the stock ends at zero.
func TestGrantRaceForLastUnits(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const n, k = 40, 7
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("U%03d", i)
	}
	c := e.campaign(t, mc.CreateCampaignRequest{Gift: mc.Gift{SKU: "GIFT-1", QtyPerOrder: 1, Stock: k}}, ids...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	var firstErr error
	for i := range n {
		wg.Go(func() {
			gs, err := e.c.GiftsFor(ctx, query(fmt.Sprintf("O%03d", i), ids[i], 100))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			won += len(gs)
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if won != k {
		t.Fatalf("%d grants, want %d", won, k)
	}
	got, _ := e.c.Campaign(ctx, c.ID)
	var rows int
	_ = e.st.DB().QueryRow(`SELECT COUNT(*) FROM gift_grants WHERE campaign_id=?`, c.ID).Scan(&rows)
	if got.GiftStockLeft != 0 || rows != k {
		t.Fatalf("stock left %d, grant rows %d", got.GiftStockLeft, rows)
	}
}

// Evaluations arriving together are written in groups; each still gets
// the answer it would have had alone: the rules of TestGrantRules judged
// at once among orders of customers no campaign lists, with a repeat and
// a reused order id in the same burst.
func TestGrantsInGroupsAnswerEachAlone(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.campaign(t, mc.CreateCampaignRequest{Name: "cond", Conditions: mc.Conditions{MinGoodsFen: 9_900, RequiredSKUs: []string{"SKU-1"}},
		ExcludedCustomers: []string{"U2"}, Gift: mc.Gift{SKU: "GIFT-A", QtyPerOrder: 2, Stock: 100}}, "U1", "U2", "U3")
	one := e.campaign(t, mc.CreateCampaignRequest{Name: "one", Gift: mc.Gift{SKU: "GIFT-1", QtyPerOrder: 1, Stock: 1}}, "U3", "U4")
	seen := query("SEEN", "U1", 10_000, "SKU-1")
	if gs, err := e.c.GiftsFor(ctx, seen); err != nil || len(gs) != 1 {
		t.Fatalf("first evaluation: %+v %v", gs, err)
	}
	reused := seen
	reused.GoodsFen++
	want := map[string]string{ // order → gifts; O6 and O7 race for the one GIFT-1
		"O1": "GIFT-A×2", "O2": "", "O4": "", "O5": "", "SEEN": "GIFT-A×2",
	}
	qs := []mc.GiftQuery{query("O1", "U1", 10_000, "SKU-1"), query("O2", "U2", 10_000, "SKU-1"), query("O4", "U1", 9_899, "SKU-1"),
		query("O5", "U1", 10_000, "SKU-2"), query("O6", "U3", 10_000, "SKU-1"), query("O7", "U4", 0), seen, reused}
	for i := range 40 {
		id := fmt.Sprintf("F%02d", i)
		qs = append(qs, query(id, "NOBODY-"+id, 10_000, "SKU-1"))
		want[id] = ""
	}
	got := map[string]string{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() {
			gs, err := e.c.GiftsFor(ctx, q)
			mu.Lock()
			defer mu.Unlock()
			if i == 7 { // reused order id with other input
				if !httpapi.HasCode(err, mc.CodeKeyReused) {
					errs = append(errs, fmt.Errorf("reused order id: %+v %v", gs, err))
				}
				return
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", q.OrderID, err))
				return
			}
			var s []string
			for _, g := range gs {
				s = append(s, fmt.Sprintf("%s×%d", g.SKU, g.Qty))
			}
			got[q.OrderID] = strings.Join(s, " ")
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("%s: got %q, want %q", id, got[id], w)
		}
	}
	// One of O6 and O7 got the last GIFT-1; O6 gets GIFT-A either way.
	o6, o7 := got["O6"], got["O7"]
	if !(o6 == "GIFT-A×2 GIFT-1×1" && o7 == "") && !(o6 == "GIFT-A×2" && o7 == "GIFT-1×1") {
		t.Fatalf("O6 %q, O7 %q: the last GIFT-1 went to neither or both", o6, o7)
	}
	if c, err := e.c.Campaign(ctx, one.ID); err != nil || c.GiftStockLeft != 0 {
		t.Fatalf("one: %+v %v", c, err)
	}
	var rows int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM gift_evaluations`).Scan(&rows); err != nil || rows != len(qs)-1 {
		t.Fatalf("%d evaluations recorded, want %d (%v)", rows, len(qs)-1, err)
	}
	if grouptest.Grouped(t, "harvest_marketing_grant_group_orders") == 0 {
		t.Fatal("no evaluation was written in a group of more than one")
	}
}

// zipBomb is a one-candidate workbook whose sheet unzips past
// candidates.MaxUnzipBytes (whitespace after the root element): tens of
// kilobytes on the wire.
func zipBomb(t *testing.T, id string) []byte {
	t.Helper()
	file := workbook(t, []any{"customer_id"}, []any{id})
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, p := range zr.File {
		rc, err := p.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if p.Name == "xl/worksheets/sheet1.xml" {
			b = append(b, bytes.Repeat([]byte(" "), candidates.MaxUnzipBytes+1)...)
		}
		w, _ := zw.Create(p.Name)
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A zip bomb and an oversized upload are refused as too large, and import
// nothing.
func TestImportRefusesZipBombAndLargeUpload(t *testing.T) {
	e := setup(t)
	c := e.campaign(t, mc.CreateCampaignRequest{}, "U1")
	bomb := zipBomb(t, "U2")
	if len(bomb) >= api.MaxFileBytes/100 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	code, rep, p := e.upload(t, c.ID, mc.XLSXContentType, bomb)
	if code != http.StatusRequestEntityTooLarge || p.Code != mc.CodeTooLarge ||
		!strings.Contains(p.Message, fmt.Sprintf("unzips to more than %d bytes", candidates.MaxUnzipBytes)) {
		t.Fatalf("bomb: %d %+v %+v", code, p, rep)
	}
	code, _, p = e.upload(t, c.ID, mc.XLSXContentType, make([]byte, api.MaxFileBytes+1))
	if code != http.StatusRequestEntityTooLarge || p.Code != mc.CodeTooLarge {
		t.Fatalf("large upload: %d %+v", code, p)
	}
	got, err := e.c.Campaign(context.Background(), c.ID)
	if err != nil || got.Candidates != 1 {
		t.Fatalf("after refused imports: %+v %v", got, err)
	}
	var imports int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM candidate_imports WHERE campaign_id=?`, c.ID).Scan(&imports); err != nil || imports != 1 {
		t.Fatalf("import records = %d, %v", imports, err)
	}
}
