package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// The marketplace stand-ins (DOMAIN 6.2): a Yuedian-like, a Meituan-like
// and an Ele.me-like platform that push signed orders to channels' public
// listener (POST /admin/market/push: one order, or a burst at a rate with
// duplicates, concurrent repeats and bad payloads), a Douyin-like shop
// whose signed search channels pulls (orders added with POST
// /admin/market/douyin/orders, their update times on the shop's skewed
// clock, shown after its index lag), a Youzan-like shop behind an access
// token (youzan.go; orders added with POST /admin/market/youzan/orders),
// and each platform's order-status
// API, which checks Harvest's signature as the platform would and counts
// every delivery of a status (GET /admin/market/statuses). The status
// and search APIs take their latency and obey fault switches ("market",
// "market.status", "market.search").

// API names of the marketplace APIs.
const (
	APIMarketStatus = "market.status"
	APIMarketSearch = "market.search"
)

func (s *Server) mountMarketAPIs(r chi.Router) {
	for _, p := range []struct{ platform, path string }{{platforms.Yuedian, platforms.StatusPathYuedian},
		{platforms.Meituan, platforms.StatusPathMeituan}, {platforms.Douyin, platforms.StatusPathDouyin},
		{platforms.Eleme, platforms.StatusPathEleme}, {platforms.Youzan, platforms.StatusPathYouzan}} {
		r.Post(p.path, s.marketStatus(p.platform, p.path))
	}
	r.Get(platforms.PullPathDouyin, s.douyinSearch)
	r.Post(platforms.TokenPathYouzan, s.youzanToken)
	r.Get(platforms.PullPathYouzan, s.youzanSearch)
}

func (s *Server) mountMarketAdmin(r chi.Router) {
	r.Post("/admin/market/push", s.marketPush)
	r.Get("/admin/market/statuses", s.marketStatuses)
	r.Post("/admin/market/douyin/orders", s.douyinAdd)
	r.Post("/admin/market/youzan/orders", s.youzanAdd)
	s.mountMarketAPIs(r)
}

// marketStatus is platform's order-status API.
func (s *Server) marketStatus(platform, path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.enter(w, r, APIMarketStatus) {
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		u, err := platforms.ParseStatus(platform, path, r.URL.Query(), r.Header.Get, body, s.cfg.MarketKeys[platform], s.clk.Now(), s.cfg.MaxSkew)
		if err != nil {
			s.marketAnswer(w, platform, http.StatusUnauthorized, err.Error())
			return
		}
		if platform == platforms.Youzan && !s.youzanStatusToken(w, r, u.Token) {
			return
		}
		now := s.clk.Now()
		if _, err := s.db.ExecContext(r.Context(), `INSERT INTO marketplace_statuses (platform, platform_order_id, status, harvest_order_id, update_id, deliveries, first_at, last_at)
			VALUES (?,?,?,?,?,1,?,?) ON DUPLICATE KEY UPDATE deliveries=deliveries+1, last_at=VALUES(last_at)`,
			platform, u.PlatformOrderID, u.Status, u.HarvestOrderID, u.UpdateID, now, now); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		s.marketAnswer(w, platform, http.StatusOK, "")
	}
}

// marketAnswer answers in platform's own format.
func (s *Server) marketAnswer(w http.ResponseWriter, platform string, status int, msg string) {
	ok := status == http.StatusOK
	switch platform {
	case platforms.Yuedian:
		a := platforms.YuedianAnswer{Code: platforms.YdOK, Message: "success"}
		if !ok {
			a.Code, a.Message = platforms.YdBadSign, msg
		}
		httpapi.WriteJSON(w, status, a)
	case platforms.Meituan:
		a := platforms.MeituanAnswer{Data: "ok"}
		if !ok {
			a.Data = "ng"
			a.Error = &struct {
				Code int    `json:"code"`
				Msg  string `json:"msg"`
			}{platforms.MtBadSign, msg}
		}
		httpapi.WriteJSON(w, status, a)
	case platforms.Eleme:
		a := platforms.ElemeCallAnswer{Result: ok}
		if !ok {
			a.Error = &struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			}{platforms.ElBadSign, msg}
		}
		httpapi.WriteJSON(w, status, a)
	case platforms.Youzan:
		code := platforms.YzOK
		if !ok {
			code = platforms.YzBadParam
		}
		httpapi.WriteJSON(w, status, platforms.YouzanEnvelope{Success: ok, Code: code, Message: msg})
	default:
		errNo := 0
		if !ok {
			errNo = status
		}
		httpapi.WriteJSON(w, status, map[string]any{"err_no": errNo, "message": msg})
	}
}

// MarketStatus is one status a platform received, with its deliveries.
type MarketStatus struct {
	Platform        string    `json:"platform"`
	PlatformOrderID string    `json:"platform_order_id"`
	Status          string    `json:"status"`
	HarvestOrderID  string    `json:"harvest_order_id"`
	Deliveries      int       `json:"deliveries"`
	FirstAt         time.Time `json:"first_at"`
}

func (s *Server) marketStatuses(w http.ResponseWriter, r *http.Request) {
	q := `SELECT platform, platform_order_id, status, harvest_order_id, deliveries, first_at FROM marketplace_statuses WHERE 1=1`
	var args []any
	for _, f := range []struct{ col, v string }{{"platform", r.URL.Query().Get("platform")}, {"platform_order_id", r.URL.Query().Get("order")}} {
		if f.v != "" {
			q += " AND " + f.col + "=?"
			args = append(args, f.v)
		}
	}
	out, err := sqltx.Collect[MarketStatus](s.db.QueryContext(r.Context(), q+` ORDER BY first_at`, args...))(func(row interface{ Scan(...any) error }) (MarketStatus, error) {
		var m MarketStatus
		err := row.Scan(&m.Platform, &m.PlatformOrderID, &m.Status, &m.HarvestOrderID, &m.Deliveries, &m.FirstAt)
		return m, err
	})
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
}

// douyinNow is the shop's clock: this machine's, skewed.
func (s *Server) douyinNow() time.Time { return s.clk.Now().Add(s.cfg.DouyinSkew) }

// DouyinAdd adds orders to the Douyin-like shop.
type DouyinAdd struct {
	Orders []MarketOrder `json:"orders"`
}

// MarketOrder is an order a stand-in makes up (platform SKUs).
type MarketOrder struct {
	ID       string       `json:"id"`
	Lines    []MarketLine `json:"lines"`
	Phone    string       `json:"phone,omitempty"`     // default a valid mobile
	SlotType string       `json:"slot_type,omitempty"` // default NEXT_DAY
	SlotDate string       `json:"slot_date,omitempty"` // default tomorrow
	// UpdatedAgo puts a Douyin order's update time this far back on the
	// shop's clock (an order updated earlier and indexed late).
	UpdatedAgo time.Duration `json:"updated_ago,omitempty"`
}

// MarketLine is one line of a made-up order.
type MarketLine struct {
	SKU      string `json:"sku"`
	Qty      int64  `json:"qty"`
	PriceFen int64  `json:"price_fen"`
}

func (s *Server) marketOrder(platform string, m MarketOrder, at time.Time) platforms.Order {
	o := platforms.Order{Platform: platform, PlatformOrderID: m.ID, ShopID: "SHOP-1", PlatformTime: at,
		Receiver: platforms.Receiver{Name: "Han Meimei", Phone: "13900139000", Province: "Shanghai", City: "Shanghai", District: "Pudong", Detail: "88 Century Ave"},
		SlotType: platforms.SlotNextDay, SlotDate: s.clk.Now().In(platforms.Shanghai).AddDate(0, 0, 1).Format(time.DateOnly)}
	if m.Phone != "" {
		o.Receiver.Phone = m.Phone
	}
	if m.SlotType != "" {
		o.SlotType = m.SlotType
	}
	if m.SlotDate != "" {
		o.SlotDate = m.SlotDate
	}
	for _, l := range m.Lines {
		o.Lines = append(o.Lines, platforms.Line{PlatformSKU: l.SKU, Qty: l.Qty, UnitPriceFen: l.PriceFen})
		o.TotalFen += l.Qty * l.PriceFen
	}
	return o
}

func (s *Server) douyinAdd(w http.ResponseWriter, r *http.Request) {
	var in DouyinAdd
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	visible := s.clk.Now().Add(s.cfg.DouyinLag)
	for _, m := range in.Orders {
		if m.ID == "" || len(m.Lines) == 0 {
			httpapi.WriteError(w, r, rejected("orders", "an order needs an id and lines"))
			return
		}
		o := s.marketOrder(platforms.Douyin, m, s.douyinNow().Add(-m.UpdatedAgo).Truncate(time.Millisecond))
		b, _ := json.Marshal(platforms.ToDouyin(o))
		if _, err := s.db.ExecContext(r.Context(), `INSERT INTO douyin_orders (order_id, update_time_ms, visible_at, body) VALUES (?,?,?,?)
			ON DUPLICATE KEY UPDATE update_time_ms=VALUES(update_time_ms), visible_at=VALUES(visible_at), body=VALUES(body)`,
			m.ID, o.PlatformTime.UnixMilli(), visible, string(b)); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"added": len(in.Orders)})
}

// douyinSearch is the shop's signed order search.
func (s *Server) douyinSearch(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIMarketSearch) {
		return
	}
	q := r.URL.Query()
	if err := platforms.VerifyDouyin(q, s.cfg.MarketKeys[platforms.Douyin], s.clk.Now(), s.cfg.MaxSkew); err != nil {
		httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]any{"err_no": 401, "message": err.Error()})
		return
	}
	start, _ := strconv.ParseInt(q.Get("start_time"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("end_time"), 10, 64)
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("size"))
	if size <= 0 || size > platforms.DouyinMaxPage || page < 0 {
		httpapi.WriteJSON(w, http.StatusBadRequest, map[string]any{"err_no": 400, "message": "size 1..100, page from 0"})
		return
	}
	bodies, err := sqltx.Strings(r.Context(), s.db, `SELECT body FROM douyin_orders WHERE update_time_ms >= ? AND update_time_ms < ? AND visible_at <= ?
		ORDER BY update_time_ms, order_id LIMIT ? OFFSET ?`, start, end, s.clk.Now(), size, page*size)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	var p platforms.DouyinPage
	p.Message, p.Data.Page, p.Data.Size = "success", page, size
	p.Data.List = make([]platforms.DouyinOrder, 0, len(bodies))
	for _, b := range bodies {
		var o platforms.DouyinOrder
		if err := json.Unmarshal([]byte(b), &o); err == nil {
			p.Data.List = append(p.Data.List, o)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// PushRequest asks a push platform to push orders to channels: Orders
// as given, or Count made-up ones (ids Prefix0…, lines from SKUs) at Rate
// a second (0: as fast as Concurrency allows). DuplicatePercent of them
// are pushed a second time at once (a concurrent repeat with a new nonce)
// and again after, MalformedPercent get a body that is no order, and
// UnmappablePercent carry a SKU no mapping knows.
type PushRequest struct {
	Platform          string        `json:"platform"`
	Orders            []MarketOrder `json:"orders,omitempty"`
	Count             int           `json:"count,omitempty"`
	Prefix            string        `json:"prefix,omitempty"`
	SKUs              []MarketLine  `json:"skus,omitempty"`
	Rate              int           `json:"rate,omitempty"`
	Concurrency       int           `json:"concurrency,omitempty"`
	DuplicatePercent  int           `json:"duplicate_percent,omitempty"`
	MalformedPercent  int           `json:"malformed_percent,omitempty"`
	UnmappablePercent int           `json:"unmappable_percent,omitempty"`
}

// PushReport is what the platform saw of its pushes.
type PushReport struct {
	Sent       int                `json:"sent"`
	Orders     int                `json:"orders"` // distinct orders pushed well-formed
	Accepted   int                `json:"accepted"`
	ByCode     map[string]int     `json:"by_code"`
	Mismatched int                `json:"mismatched"` // repeats answered another accept id than the first
	TimedOut   int                `json:"timed_out"`  // past the platform's timeout
	Duration   time.Duration      `json:"duration"`
	LatencyMs  map[string]float64 `json:"latency_ms"`           // p50, p95, p99, max of the accepted
	AcceptIDs  map[string]string  `json:"accept_ids,omitempty"` // by order id (small pushes only)
}

func (s *Server) marketPush(w http.ResponseWriter, r *http.Request) {
	var in PushRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if platforms.WayOf(in.Platform) != platforms.WayPush {
		httpapi.WriteError(w, r, rejected("platform", "%q is not a push platform (YUEDIAN, MEITUAN, ELEME)", in.Platform))
		return
	}
	if len(in.Orders) == 0 && (in.Count <= 0 || len(in.SKUs) == 0) {
		httpapi.WriteError(w, r, rejected("orders", "orders, or count with skus, are required"))
		return
	}
	// A burst answers when its last push is answered: on a loaded
	// machine 50 k pushes outlast the listener's write timeout (60 s),
	// which cut the report off. The burst has the time its rate asks and
	// the five minutes more the load run waits for it.
	n := max(len(in.Orders), in.Count)
	d := 5 * time.Minute
	if in.Rate > 0 {
		d += time.Duration(n) * time.Second / time.Duration(in.Rate)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
	httpapi.WriteJSON(w, http.StatusOK, s.push(r.Context(), in))
}

// pushJob is one request the platform sends.
type pushJob struct {
	order  platforms.Order
	bad    bool // a body that is no order
	repeat bool
}

var pushClient = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:        1024,
	MaxIdleConnsPerHost: 1024,
	IdleConnTimeout:     90 * time.Second,
}}

// push sends the pushes and reports.
func (s *Server) push(ctx context.Context, in PushRequest) PushReport {
	now := s.clk.Now()
	orders := make([]platforms.Order, 0, max(len(in.Orders), in.Count))
	for _, m := range in.Orders {
		orders = append(orders, s.marketOrder(in.Platform, m, now))
	}
	rng := rand.New(rand.NewPCG(uint64(now.UnixNano()), 16))
	for i := range in.Count {
		k := 1 + rng.IntN(min(3, len(in.SKUs)))
		m := MarketOrder{ID: fmt.Sprintf("%s%d", in.Prefix, i)}
		for _, j := range rng.Perm(len(in.SKUs))[:k] {
			m.Lines = append(m.Lines, MarketLine{SKU: in.SKUs[j].SKU, Qty: 1 + int64(rng.IntN(2)), PriceFen: in.SKUs[j].PriceFen})
		}
		if in.UnmappablePercent > 0 && rng.IntN(100) < in.UnmappablePercent {
			m.Lines[0].SKU = "UNMAPPED-" + m.Lines[0].SKU
		}
		orders = append(orders, s.marketOrder(in.Platform, m, now))
	}
	jobs := make([]pushJob, 0, len(orders)*11/10)
	var repeats []pushJob
	for _, o := range orders {
		bad := in.MalformedPercent > 0 && rng.IntN(100) < in.MalformedPercent
		jobs = append(jobs, pushJob{order: o, bad: bad})
		if !bad && in.DuplicatePercent > 0 && rng.IntN(100) < in.DuplicatePercent {
			jobs = append(jobs, pushJob{order: o, repeat: true}) // right behind: concurrent
			repeats = append(repeats, pushJob{order: o, repeat: true})
		}
	}
	jobs = append(jobs, repeats...) // and once more, after
	conc := in.Concurrency
	if conc <= 0 {
		conc = 64
	}
	var (
		mu       sync.Mutex
		rep      = PushReport{ByCode: map[string]int{}}
		lat      []float64
		first    = map[string]string{}
		next     atomic.Int64
		wg       sync.WaitGroup
		interval time.Duration
		timeout  = platforms.YuedianTimeout
		distinct = map[string]bool{}
	)
	switch in.Platform {
	case platforms.Meituan:
		timeout = platforms.MeituanTimeout
	case platforms.Eleme:
		timeout = platforms.ElemeTimeout
	}
	if in.Rate > 0 {
		interval = time.Second / time.Duration(in.Rate)
	}
	// A burst that fits well inside the timestamp window is signed before
	// its clock starts: the platform's own signing is not what the run
	// measures, and on two shared cores it took CPU from the endpoint it
	// pushes to. A longer push signs each request as it sends it, so none
	// goes out stale.
	prepared := make([]pushRequest, len(jobs))
	signAhead := interval > 0 && time.Duration(len(jobs))*interval < signAheadFor
	if signAhead {
		for i, j := range jobs {
			prepared[i] = s.pushRequestOf(in.Platform, j)
		}
	}
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				if interval > 0 {
					if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
						time.Sleep(d)
					}
				}
				j := jobs[i]
				pr := prepared[i]
				if !signAhead {
					pr = s.pushRequestOf(in.Platform, j)
				}
				t0 := time.Now()
				code, id, err := s.pushOne(ctx, pr, timeout)
				d := time.Since(t0)
				mu.Lock()
				rep.Sent++
				switch {
				case err != nil:
					rep.ByCode["transport"]++
					if d >= timeout {
						rep.TimedOut++
					}
				default:
					rep.ByCode[strconv.Itoa(code)]++
				}
				if d >= timeout && err == nil {
					rep.TimedOut++
				}
				if err == nil && code == http.StatusOK {
					lat = append(lat, float64(d.Microseconds())/1000)
					oid := j.order.PlatformOrderID
					if prev, ok := first[oid]; ok && prev != id {
						rep.Mismatched++
					} else if !ok {
						first[oid] = id
					}
					if !j.repeat {
						rep.Accepted++
					}
				}
				if !j.bad && !j.repeat {
					distinct[j.order.PlatformOrderID] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.Duration = time.Since(start)
	rep.Orders = len(distinct)
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	rep.LatencyMs = map[string]float64{"p50": q(0.50), "p95": q(0.95), "p99": q(0.99), "max": q(1)}
	if len(first) <= 1000 {
		rep.AcceptIDs = first
	}
	return rep
}

// signAheadFor bounds the pushes signed before the clock starts: those
// sent within it, far inside the timestamp window (5 min).
const signAheadFor = time.Minute

// pushRequest is one signed push, ready to send.
type pushRequest struct {
	url    string
	header http.Header
	body   []byte
}

// pushRequestOf signs job j's request as platform sends it, now.
func (s *Server) pushRequestOf(platform string, j pushJob) pushRequest {
	k := s.cfg.MarketKeys[platform]
	h := http.Header{}
	switch platform {
	case platforms.Yuedian:
		body := platforms.YuedianOrderBody(j.order)
		if j.bad {
			body = []byte(`{"order_no":"` + j.order.PlatformOrderID + `","items":"not a list"}`)
		}
		h.Set("Content-Type", "application/json")
		r := &http.Request{Header: h}
		platforms.SignYuedianRequest(r, k, s.clk.Now(), body)
		return pushRequest{url: s.cfg.ChannelsURL + platforms.PushPathYuedian, header: h, body: body}
	case platforms.Eleme:
		o := j.order
		o.ShopID = "1001"
		body := platforms.ElemePushBody(o, k, s.clk.Now())
		if j.bad { // signed, but its message is no order
			p := platforms.ElemePush{Type: platforms.ElemeOrderEffective, Message: `{"id":"` + o.PlatformOrderID + `","groups":"not a list"}`, ShopID: 1001}
			platforms.SignElemePush(&p, k, s.clk.Now())
			body, _ = json.Marshal(p)
		}
		h.Set("Content-Type", "application/json")
		return pushRequest{url: s.cfg.ChannelsURL + platforms.PushPathEleme, header: h, body: body}
	default:
		f := platforms.MeituanOrderForm(j.order)
		if j.bad {
			f.Set("detail", "[{not json")
		}
		platforms.SignMeituanForm(f, platforms.PushPathMeituan, k, s.clk.Now())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		return pushRequest{url: s.cfg.ChannelsURL + platforms.PushPathMeituan, header: h, body: []byte(f.Encode())}
	}
}

// pushOne sends one signed push and reads the platform's answer: the
// HTTP status and, when taken, the accept id.
func (s *Server) pushOne(ctx context.Context, pr pushRequest, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pr.url, bytes.NewReader(pr.body))
	if err != nil {
		return 0, "", err
	}
	req.Header = pr.header
	resp, err := pushClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var a struct {
		Data     json.RawMessage `json:"data"`
		AcceptID string          `json:"accept_id"`
		ElemeID  string          `json:"acceptId"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&a)
	id := a.AcceptID
	if a.ElemeID != "" {
		id = a.ElemeID
	}
	if id == "" && len(a.Data) > 0 && a.Data[0] == '{' {
		var d struct {
			AcceptID string `json:"accept_id"`
		}
		_ = json.Unmarshal(a.Data, &d)
		id = d.AcceptID
	}
	return resp.StatusCode, id, nil
}
