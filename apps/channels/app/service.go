// Package app holds channels' use cases (DOMAIN 6): accepting a pushed
// marketplace order (verified by the api package, staged here in groups,
// answered as soon as it is stored), planning staged orders into sales
// plans, ordering plans through OMS's accept-order API, telling platforms
// of their orders' statuses once per change, pulling the pull platforms
// with a durable cursor, and the operators' and sales staff's reads,
// retries and plans.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
)

// Orders is OMS's accept-order API (*omsclient.Client).
type Orders interface {
	PlaceOrder(ctx context.Context, r omsclient.PlaceOrderRequest) (omsclient.Order, error)
}

// Catalog is inventory's catalog (*inventoryclient.Client): the prices
// OMS checks an order's lines against.
type Catalog interface {
	CatalogEntries(ctx context.Context, skus []string) ([]inventoryclient.Product, error)
}

// Outside reaches the platforms' own APIs, an HTTPEndpoint per platform
// (*daprx.Invoker).
type Outside interface {
	InvokeRaw(ctx context.Context, app, httpMethod, method string, header map[string]string, body []byte) (int, []byte, error)
}

// Nonces remembers the nonces (or signatures) of the requests seen within
// the timestamp window (*NonceStore, in Redis).
type Nonces interface {
	// Claim reports true the first time platform's nonce is claimed.
	Claim(ctx context.Context, platform, nonce string, ttl time.Duration) (bool, error)
	// ClaimFor claims a nonce for content: fresh the first time; else same
	// says whether the first claim was for the same content.
	ClaimFor(ctx context.Context, platform, nonce, content string, ttl time.Duration) (fresh, same bool, err error)
}

// Deps are the service's collaborators and settings.
type Deps struct {
	Store   *store.Store
	Orders  Orders
	Catalog Catalog
	Outside Outside
	Nonces  Nonces
	// PlatformApp is the app id (HTTPEndpoint) each platform's API is
	// reached at.
	PlatformApp map[string]string
	Keys        map[string]platforms.Keys
	// Window is how far a request's timestamp may be from now.
	Window time.Duration
	// PullOverlap is how far before its cursor a pull reads again (the
	// platform's index lag and clock skew); PullPage its page size;
	// PullFrom how far back a platform without a cursor is read.
	PullOverlap, PullFrom time.Duration
	PullPage              int
	// AfterFetch, when set, runs after a page is fetched and before it is
	// stored with its cursor; an error stops the pull there (the fault
	// the crash tests inject).
	AfterFetch func(platform string, page int) error
	Clock      clock.Clock
	Notify     func()
	Logger     *slog.Logger
}

// Service runs channels' use cases.
type Service struct {
	d      Deps
	stager *group.Writer[*store.Item]
	tok    tokens // Youzan's access token
	// delivered follows the broker's deliveries of each step, which the
	// sweep leaves alone while they flow (Sweep).
	delivered stepMarks
	ordering  inFlight
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Notify == nil {
		d.Notify = func() {}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Window <= 0 {
		d.Window = 5 * time.Minute
	}
	if d.PullPage <= 0 {
		d.PullPage = platforms.DouyinMaxPage
	}
	if d.PullOverlap <= 0 {
		d.PullOverlap = 2 * time.Minute
	}
	if d.PullFrom <= 0 {
		d.PullFrom = 24 * time.Hour
	}
	s := &Service{d: d}
	// The pushes that arrive together are staged in one transaction:
	// a group buy closing pushes tens of thousands at once.
	// A group's one channels.order.received names all its orders.
	s.stager = group.NewWriter(group.Options{MaxSize: events.MaxIDs, Sizes: stageGroupSize}, d.Store.Stage)
	return s
}

var stageGroupSize = group.NewSizeHistogram("harvest_channels_stage_group_orders", "Marketplace orders staged per transaction (1 = alone).")

func (s *Service) now() time.Time { return s.d.Clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) today() string { return s.d.Clock.Now().In(platforms.Shanghai).Format(time.DateOnly) }

// Keys are platform's credentials (ok false for a platform not configured).
func (s *Service) Keys(platform string) (platforms.Keys, bool) {
	k, ok := s.d.Keys[platform]
	return k, ok && k.Secret != ""
}

// Window is the timestamp window.
func (s *Service) Window() time.Duration { return s.d.Window }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.d.Clock.Now() }

// ClaimNonce reports whether a verified request's nonce is new; a replay
// within the window finds it taken. It is kept twice the window, past
// which the timestamp check refuses the request anyway.
func (s *Service) ClaimNonce(ctx context.Context, platform, nonce string) (bool, error) {
	return s.d.Nonces.Claim(ctx, platform, nonce, 2*s.d.Window)
}

// ClaimSignature is ClaimNonce for a platform whose signature is its
// only nonce (Meituan): its retry resends the very bytes it signed, which
// must get the first answer, not be refused as a replay. The signature is
// claimed for the content it was seen with (content, a canonical
// fingerprint of the request); resent means it was seen before with the
// same content (an identical resend, to be answered as the order's
// repeat), replayed that it came before with other content (refused).
func (s *Service) ClaimSignature(ctx context.Context, platform, sig, content string) (fresh, resent bool, err error) {
	fresh, same, err := s.d.Nonces.ClaimFor(ctx, platform, sig, content, 2*s.d.Window)
	return fresh, !fresh && same, err
}

// Accepted is the answer to a push: the staged order's id, the same for
// every repeat of the platform's order.
type Accepted struct {
	ID        string
	Duplicate bool
	Status    string
}

// Accept stages a pushed order (with the orders pushed at the same moment)
// and answers once it is stored; planning follows from the broker.
func (s *Service) Accept(ctx context.Context, o platforms.Order) (Accepted, error) {
	it := &store.Item{Order: o, Way: platforms.WayPush, At: s.now()}
	if err := s.stager.Write(ctx, it); err != nil {
		return Accepted{}, err
	}
	if !it.Dup {
		s.d.Notify()
	}
	return Accepted{ID: it.ID, Duplicate: it.Dup, Status: it.Status}, nil
}

// PlanAll makes the sales plans of staged orders (a bulk of
// channels.order.received): every mappable one RECEIVED becomes PLANNED
// with its plan, every unmappable one PARKED with its reason, in one
// transaction; the answer has one error per id (nil for done or done
// before, domain.ErrNotFound for an unknown id).
func (s *Service) PlanAll(ctx context.Context, processIDs []string) []error {
	return s.planAll(ctx, processIDs, &s.delivered.received)
}

// planAll is PlanAll; mark (nil for the sweep's own) records a delivery
// of the step's messages.
func (s *Service) planAll(ctx context.Context, processIDs []string, mark *stepMark) []error {
	errs := make([]error, len(processIDs))
	// A plan.created message names at most events.MaxIDs plans.
	inChunks(len(processIDs), func(lo, hi int) { s.planChunk(ctx, processIDs[lo:hi], errs[lo:hi], mark) })
	return errs
}

func (s *Service) planChunk(ctx context.Context, processIDs []string, errs []error, mark *stepMark) {
	staged, err := s.d.Store.Staged(ctx, processIDs)
	if err != nil {
		fill(errs, err)
		return
	}
	for _, x := range staged {
		if x.Status == domain.StageReceived {
			mark.saw(s.d.Clock.Now(), x.UpdatedAt)
		}
	}
	byPlatform := map[string][]string{}
	for _, x := range staged {
		for _, l := range x.Order.Lines {
			byPlatform[x.Order.Platform] = append(byPlatform[x.Order.Platform], l.PlatformSKU)
		}
	}
	mappings := map[string]map[string]string{}
	for p, skus := range byPlatform {
		slices.Sort(skus)
		m, err := s.d.Store.Mappings(ctx, p, slices.Compact(skus))
		if err != nil {
			fill(errs, err)
			return
		}
		mappings[p] = m
	}
	now, today := s.now(), s.today()
	var outs []*store.Outcome
	var at []int
	for i, id := range processIDs {
		x := staged[id]
		switch {
		case x == nil:
			errs[i] = fmt.Errorf("%w: staged order %s", domain.ErrNotFound, id)
			continue
		case x.Status != domain.StageReceived:
			continue // planned or parked before: a redelivery
		}
		plan, parked := domain.PlanOf(id, x.Order, mappings[x.Order.Platform], today)
		outs = append(outs, &store.Outcome{ProcessID: id, Plan: plan, Parked: parked, At: now})
		at = append(at, i)
	}
	if len(outs) == 0 {
		return
	}
	group.AllOrEach(outs, func(g []*store.Outcome) error { return s.d.Store.SavePlans(ctx, g) },
		func(j int, err error) { errs[at[j]] = err })
	s.d.Notify()
}

// Order makes plan id's Harvest order (OrderAll of one).
func (s *Service) Order(ctx context.Context, id string) error {
	if err := s.OrderAll(ctx, []string{id})[0]; err != nil {
		return err
	}
	return nil
}

// placeAtOnce bounds the accept-order calls one OrderAll chunk has in
// flight: the whole chunk. The Invoker sends them to OMS as batches of
// its v1/batch (64 calls, omsBatchesInFlight in flight in main), so what waits forms full
// batches; at 64 a chunk the 20 k run ordered only ~130 plans a second
// with the broker's bulks handed over one at a time.
const placeAtOnce = events.MaxIDs

// OrderAll makes the Harvest orders of plans (a channels.plan.created
// message names those planned together) through OMS's accept-order API:
// ToB, never paid, straight to fulfillment, at the catalog's prices (what
// OMS checks an order against; the plan keeps the prices agreed with the
// customer, which settlement bills). The plans are read by one query,
// their SKUs priced by one catalog call, their orders placed at once
// (the Invoker batches them) and recorded in one transaction. OMS's
// refusal marks a plan FAILED with OMS's code and reasons (retryable by
// an operator); a passing fault is returned for that plan for the broker
// to redeliver. Idempotent by each plan's id, which is OMS's idempotency
// key. The answer has one error per id (nil for made or made before,
// domain.ErrNotFound for an unknown id).
func (s *Service) OrderAll(ctx context.Context, planIDs []string) []error {
	return s.orderAll(ctx, planIDs, &s.delivered.planned)
}

// orderAll is OrderAll; mark (nil for the sweep's own) records a
// delivery of the step's messages.
func (s *Service) orderAll(ctx context.Context, planIDs []string, mark *stepMark) []error {
	ctx, cancel := finishing(ctx)
	defer cancel()
	errs := make([]error, len(planIDs))
	inChunks(len(planIDs), func(lo, hi int) { s.orderChunk(ctx, planIDs[lo:hi], errs[lo:hi], mark) })
	return errs
}

func (s *Service) orderChunk(ctx context.Context, planIDs []string, errs []error, mark *stepMark) {
	plans, err := s.d.Store.PlansOf(ctx, planIDs)
	if err != nil {
		fill(errs, err)
		return
	}
	for _, p := range plans {
		if p.Status == domain.PlanPlanned {
			mark.saw(s.d.Clock.Now(), p.UpdatedAt)
		}
	}
	var open []*domain.PlanRecord
	var mine []*attempt
	var at []int
	var skus []string
	type waiting struct {
		i int
		a *attempt
	}
	var others []waiting
	for i, id := range planIDs {
		p := plans[id]
		switch {
		case p == nil:
			errs[i] = fmt.Errorf("%w: plan %s", domain.ErrNotFound, id)
			continue
		case p.Status != domain.PlanPlanned:
			continue // ordered or failed before: a redelivery
		}
		delete(plans, id) // a repeat in the message is ordered once
		a, first := s.ordering.begin(id)
		if !first {
			others = append(others, waiting{i, a})
			continue
		}
		open = append(open, p)
		mine = append(mine, a)
		at = append(at, i)
		for _, l := range p.Lines {
			skus = append(skus, l.SKU)
		}
	}
	// Own attempts end (with their outcome) before others' are waited on,
	// so two chunks waiting on each other's plans cannot both wait.
	defer func() {
		for j, p := range open {
			s.ordering.end(p.ID, mine[j], errs[at[j]])
		}
		for _, w := range others {
			select {
			case <-w.a.done:
				errs[w.i] = w.a.err
			case <-ctx.Done():
				errs[w.i] = fmt.Errorf("plan %s being ordered by an earlier delivery: %w", planIDs[w.i], ctx.Err())
			}
		}
	}()
	if len(open) == 0 {
		return
	}
	slices.Sort(skus)
	entries, err := s.d.Catalog.CatalogEntries(ctx, slices.Compact(skus))
	if err != nil && !httpapi.HasCode(err, inventoryclient.CodeUnknownSKU) {
		for _, i := range at {
			errs[i] = fmt.Errorf("catalog of plan %s: %w", planIDs[i], err)
		}
		return
	}
	price := map[string]int64{}
	for _, e := range entries {
		price[e.SKU] = int64(e.PriceFen)
	}
	made := make([]*store.OrderedItem, len(open))
	var wg sync.WaitGroup
	slots := make(chan struct{}, placeAtOnce)
	for j, p := range open {
		req, refused := s.orderRequest(p, price)
		if refused != nil {
			errs[at[j]] = s.d.Store.Failed(ctx, p.ID, refused.code, refused.note, s.now())
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			o, err := s.d.Orders.PlaceOrder(ctx, req)
			var pb *httpapi.Problem
			switch {
			case errors.As(err, &pb) && pb.Status >= 400 && pb.Status < 500 && pb.Status != 429 && pb.Status != 408:
				errs[at[j]] = s.d.Store.Failed(ctx, p.ID, pb.Code, refusal(pb), s.now())
			case err != nil:
				errs[at[j]] = fmt.Errorf("place the order of plan %s: %w", p.ID, err)
			default:
				made[j] = &store.OrderedItem{PlanID: p.ID, OrderID: o.ID, At: s.now()}
			}
		})
	}
	wg.Wait()
	var items []*store.OrderedItem
	var itemAt []int
	for j, it := range made {
		if it != nil {
			items = append(items, it)
			itemAt = append(itemAt, at[j])
		}
	}
	if len(items) == 0 {
		return
	}
	if err := s.d.Store.OrderedAll(ctx, items); err != nil {
		// The orders exist; a redelivery finds them by their keys.
		for _, i := range itemAt {
			errs[i] = err
		}
		return
	}
	s.d.Notify()
}

// finishWithin bounds the ordering of a bulk's plans (or the sending of
// its statuses) once begun. The sidecar gives up on a bulk after its
// inbound timeout (10 s, dapr/resiliency.yaml) and delivers it again; on
// a busy machine a bulk of plans can take longer (the 20 k run at load
// 50-70 had 202 accept-order calls cancelled at 10 s and the placements
// and record of their whole chunks thrown away, to be placed again as
// OMS's replays). So what has begun is finished and recorded whatever
// the delivery's deadline, and the redelivery finds the plans ORDERED and
// asks OMS nothing.
const finishWithin = 60 * time.Second

// finishing is ctx without its cancellation, ended after finishWithin.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), finishWithin)
}

// inFlight is the plans this process is ordering. The sidecar delivers a
// bulk again half a second after giving up on it (its inbound timeout),
// while the first delivery, which finishes regardless (finishing), is
// still placing its plans: those are still PLANNED, and the redelivery
// placed each again (OMS's replay: 400 in a 20 k run at load 80). A
// plan already being ordered here is waited on instead, and its
// outcome is the redelivery's.
type inFlight struct {
	mu sync.Mutex
	m  map[string]*attempt
}

// attempt is one ordering of a plan: done closes when it has ended,
// with err its outcome (nil: made and recorded, or refused and recorded).
type attempt struct {
	done chan struct{}
	err  error
}

// begin claims plan id: first is true for a new attempt, which its
// caller must end; false gives the attempt under way.
func (f *inFlight) begin(id string) (a *attempt, first bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.m[id]; a != nil {
		return a, false
	}
	if f.m == nil {
		f.m = map[string]*attempt{}
	}
	a = &attempt{done: make(chan struct{})}
	f.m[id] = a
	return a, true
}

// end ends attempt a of plan id with its outcome.
func (f *inFlight) end(id string, a *attempt, err error) {
	f.mu.Lock()
	delete(f.m, id)
	f.mu.Unlock()
	a.err = err
	close(a.done)
}

type planRefusal struct{ code, note string }

// orderRequest is plan p's accept-order call at the catalog's prices, or
// why it cannot be placed (a SKU no longer in the catalog).
func (s *Service) orderRequest(p *domain.PlanRecord, price map[string]int64) (omsclient.PlaceOrderRequest, *planRefusal) {
	req := omsclient.PlaceOrderRequest{IdempotencyKey: "plan-" + p.ID, Source: omsclient.SourceSalesPlan, CustomerID: p.CustomerID,
		Address: omsclient.Address{Name: p.Receiver.Name, Phone: p.Receiver.Phone, Province: p.Receiver.Province, City: p.Receiver.City,
			District: p.Receiver.District, Detail: p.Receiver.Detail},
		Slot: omsclient.Slot{Type: p.SlotType, Date: p.SlotDate}}
	if p.Source == domain.SourceMarketplace {
		req.Source = omsclient.SourceThirdParty
	}
	for i, l := range p.Lines {
		pr, ok := price[l.SKU]
		if !ok {
			return req, &planRefusal{"UNKNOWN_SKU", fmt.Sprintf("lines[%d].sku: %s is not in the catalog", i, l.SKU)}
		}
		req.Lines = append(req.Lines, omsclient.LineInput{SKU: l.SKU, Qty: l.Qty, UnitPriceFen: moneyFen(pr)})
	}
	return req, nil
}

// inChunks runs do on the chunks [lo, hi) of n ids, at most
// events.MaxIDs each (a step's one transaction and message), all at once:
// the sidecar hands a subscription one bulk at a time, so what is in a
// bulk is all that moves.
func inChunks(n int, do func(lo, hi int)) {
	if n <= events.MaxIDs {
		do(0, n)
		return
	}
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += events.MaxIDs {
		wg.Go(func() { do(lo, min(lo+events.MaxIDs, n)) })
	}
	wg.Wait()
}

func fill(errs []error, err error) {
	for i := range errs {
		errs[i] = err
	}
}

// refusal is OMS's refusal in one line, its violations named.
func refusal(p *httpapi.Problem) string {
	parts := []string{p.Message}
	if vs, ok := p.Details["violations"].([]any); ok {
		for _, v := range vs {
			if m, ok := v.(map[string]any); ok {
				parts = append(parts, fmt.Sprintf("%v %v", m["field"], m["code"]))
			}
		}
	}
	if skus, ok := p.Details["skus"]; ok {
		parts = append(parts, fmt.Sprintf("skus %v", skus))
	}
	return strings.Join(parts, "; ")
}

// OrderStatus applies an OMS order event: its outcome for settlement
// (delivered, refused at the door) on the order's sales plan, and the
// platform status it means (shipped, delivered, cancelled) queued once per
// order and status whatever the redeliveries (consumer names the topic's
// inbox).
func (s *Service) OrderStatus(ctx context.Context, consumer, msgID, orderID, omsStatus string) error {
	if orderID == "" {
		return nil
	}
	st, outcome := domain.PlatformStatusOf(omsStatus), ""
	switch omsStatus {
	case "COMPLETED":
		outcome = store.OutcomeDelivered
	case "REFUSED":
		outcome = store.OutcomeReturned
	}
	if st == "" && outcome == "" {
		return nil
	}
	queued, err := s.d.Store.QueueOrderStatus(ctx, consumer, msgID, orderID, st, outcome, s.now())
	if queued {
		s.d.Notify()
	}
	return err
}

// ErrPlatformRefused is a platform's status API refusing a status.
var ErrPlatformRefused = errors.New("platform refused the status")

// SendStatus tells the platform of a queued status (SendStatuses of one).
func (s *Service) SendStatus(ctx context.Context, updateID string) error {
	return s.SendStatuses(ctx, []string{updateID})[0]
}

// sendAtOnce bounds the status calls one SendStatuses has in flight.
const sendAtOnce = 32

// SendStatuses tells the platforms of queued statuses (a
// channels.status.queued message names those queued together), once
// each: a status sent is not sent again, and the platform gets Harvest's
// update id to recognise a resend after a crash between its answer and
// the record. The statuses are read by one query, sent at once (each
// platform's API takes one status a call) and recorded as sent in one
// transaction. The answer has one error per id.
func (s *Service) SendStatuses(ctx context.Context, updateIDs []string) []error {
	return s.sendStatuses(ctx, updateIDs, &s.delivered.unsent)
}

// sendStatuses is SendStatuses; mark (nil for the sweep's own) records a
// delivery of the step's messages.
func (s *Service) sendStatuses(ctx context.Context, updateIDs []string, mark *stepMark) []error {
	ctx, cancel := finishing(ctx)
	defer cancel()
	errs := make([]error, len(updateIDs))
	inChunks(len(updateIDs), func(lo, hi int) { s.sendChunk(ctx, updateIDs[lo:hi], errs[lo:hi], mark) })
	return errs
}

func (s *Service) sendChunk(ctx context.Context, updateIDs []string, errs []error, mark *stepMark) {
	ups, err := s.d.Store.StatusUpdatesOf(ctx, updateIDs)
	if err != nil {
		fill(errs, err)
		return
	}
	for _, u := range ups {
		if u.SentAt == nil {
			mark.saw(s.d.Clock.Now(), u.CreatedAt)
		}
	}
	sent := make([]bool, len(updateIDs))
	var wg sync.WaitGroup
	slots := make(chan struct{}, sendAtOnce)
	for i, id := range updateIDs {
		u := ups[id]
		switch {
		case u == nil:
			errs[i] = fmt.Errorf("%w: status update %s", domain.ErrNotFound, id)
			continue
		case u.SentAt != nil:
			continue
		}
		delete(ups, id) // a repeat in the message is sent once
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if errs[i] = s.send(ctx, u); errs[i] == nil {
				sent[i] = true
			}
		})
	}
	wg.Wait()
	var done []string
	var doneAt []int
	for i, ok := range sent {
		if ok {
			done = append(done, updateIDs[i])
			doneAt = append(doneAt, i)
		}
	}
	if err := s.d.Store.StatusesSent(ctx, done, s.now()); err != nil {
		// Sent but not recorded: the resend carries the same update id.
		for _, i := range doneAt {
			errs[i] = err
		}
	}
}

// send makes one status call to u's platform.
func (s *Service) send(ctx context.Context, u *domain.Update) error {
	k, ok := s.Keys(u.Platform)
	if !ok {
		return fmt.Errorf("no keys for %s", u.Platform)
	}
	send := func(token string) (int, []byte, error) {
		path, header, body := platforms.StatusRequest(platforms.StatusUpdate{Platform: u.Platform, PlatformOrderID: u.PlatformOrderID,
			Status: u.Status, HarvestOrderID: u.OrderID, UpdateID: u.ID, At: u.CreatedAt, Token: token}, k, s.d.Clock.Now())
		return s.d.Outside.InvokeRaw(ctx, s.d.PlatformApp[u.Platform], "POST", strings.TrimPrefix(path, "/"), header, body)
	}
	var code int
	var answer []byte
	var err error
	if u.Platform == platforms.Youzan {
		code, answer, err = s.withYouzanToken(ctx, u.Platform, k, send)
	} else {
		code, answer, err = send("")
	}
	if err == nil {
		err = platformAnswer(u.Platform, code, answer)
	}
	if err != nil {
		_ = s.d.Store.StatusFailed(ctx, u.ID, err.Error())
		return fmt.Errorf("tell %s of %s %s: %w", u.Platform, u.PlatformOrderID, u.Status, err)
	}
	return nil
}

// platformAnswer judges a status API's answer in the platform's format.
func platformAnswer(platform string, code int, b []byte) error {
	if code < 200 || code > 299 {
		return fmt.Errorf("%w: HTTP %d: %.200s", ErrPlatformRefused, code, b)
	}
	switch platform {
	case platforms.Yuedian:
		var a platforms.YuedianAnswer
		if json.Unmarshal(b, &a) != nil || a.Code != platforms.YdOK {
			return fmt.Errorf("%w: %.200s", ErrPlatformRefused, b)
		}
	case platforms.Meituan:
		var a platforms.MeituanAnswer
		if json.Unmarshal(b, &a) != nil || a.Data != "ok" {
			return fmt.Errorf("%w: %.200s", ErrPlatformRefused, b)
		}
	case platforms.Eleme:
		var a platforms.ElemeCallAnswer
		if json.Unmarshal(b, &a) != nil || a.Error != nil {
			return fmt.Errorf("%w: %.200s", ErrPlatformRefused, b)
		}
	case platforms.Youzan:
		var a platforms.YouzanEnvelope
		if json.Unmarshal(b, &a) != nil || !a.Success || a.Code != platforms.YzOK {
			return fmt.Errorf("%w: %.200s", ErrPlatformRefused, b)
		}
	default:
		var a struct {
			ErrNo int `json:"err_no"`
		}
		if json.Unmarshal(b, &a) != nil || a.ErrNo != 0 {
			return fmt.Errorf("%w: %.200s", ErrPlatformRefused, b)
		}
	}
	return nil
}

// Staged is one staged order with its steps.
func (s *Service) Staged(ctx context.Context, id string) (*domain.Staged, error) {
	return s.d.Store.StagedOne(ctx, id)
}

// FindStaged finds a platform's order by the platform's id.
func (s *Service) FindStaged(ctx context.Context, platform, platformOrderID string) (*domain.Staged, error) {
	return s.d.Store.FindStaged(ctx, platform, platformOrderID)
}

// ListStaged lists staged orders, newest first.
func (s *Service) ListStaged(ctx context.Context, platform, status string, first int) ([]*domain.Staged, error) {
	if first <= 0 || first > 200 {
		first = 50
	}
	return s.d.Store.ListStaged(ctx, platform, status, first)
}

// StatusUpdates lists what a staged order's platform was (to be) told.
func (s *Service) StatusUpdates(ctx context.Context, processID string) ([]*domain.Update, error) {
	return s.d.Store.StatusUpdates(ctx, processID)
}

// Retry puts a PARKED or FAILED staged order back on its way.
func (s *Service) Retry(ctx context.Context, id, by string) (*domain.Staged, error) {
	if err := s.d.Store.Retry(ctx, id, by, s.now()); err != nil {
		return nil, err
	}
	s.d.Notify()
	return s.d.Store.StagedOne(ctx, id)
}

// SetMapping maps a platform SKU to a Harvest SKU.
func (s *Service) SetMapping(ctx context.Context, platform, platformSKU, sku, by string) error {
	if platforms.WayOf(platform) == "" {
		return fmt.Errorf("%w: platform: %q is not one of %v", domain.ErrValidation, platform, platforms.Names)
	}
	if platformSKU == "" || sku == "" || len(platformSKU) > 64 || len(sku) > 64 {
		return fmt.Errorf("%w: platformSku and sku are required, at most 64 characters", domain.ErrValidation)
	}
	return s.d.Store.SetMapping(ctx, platform, platformSKU, sku, by, s.now())
}

// PlanInput is a plan entered by sales staff.
type PlanInput struct {
	IdempotencyKey string
	By             string
	Plan           domain.Plan
}

// CreatePlan stores a staff plan with the message that orders it; the
// same author and key give the plan stored first.
func (s *Service) CreatePlan(ctx context.Context, in PlanInput) (*domain.PlanRecord, error) {
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > 128 {
		return nil, fmt.Errorf("%w: idempotencyKey: required, at most 128 characters", domain.ErrValidation)
	}
	p := in.Plan
	p.Source, p.ProcessID = domain.SourceStaff, ""
	if err := domain.CheckStaffPlan(p, s.today()); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	now := s.now()
	rec := &domain.PlanRecord{Plan: p, ID: ids.NewAt(now), Status: domain.PlanPlanned, Key: in.IdempotencyKey, CreatedBy: in.By, CreatedAt: now, UpdatedAt: now}
	out, created, err := s.d.Store.CreateStaffPlan(ctx, rec, hex.EncodeToString(sum[:]))
	if err != nil {
		return nil, err
	}
	if created {
		s.d.Notify()
	}
	return out, nil
}

// Plan reads one plan.
func (s *Service) Plan(ctx context.Context, id string) (*domain.PlanRecord, error) {
	return s.d.Store.Plan(ctx, id)
}

// Plans lists plans, newest first.
func (s *Service) Plans(ctx context.Context, customerID string, first int) ([]*domain.PlanRecord, error) {
	if first <= 0 || first > 200 {
		first = 50
	}
	return s.d.Store.Plans(ctx, customerID, first)
}

// RetryPlan orders a FAILED staff plan again.
func (s *Service) RetryPlan(ctx context.Context, id string) (*domain.PlanRecord, error) {
	if err := s.d.Store.RetryPlan(ctx, id, s.now()); err != nil {
		return nil, err
	}
	s.d.Notify()
	return s.d.Store.Plan(ctx, id)
}

func moneyFen(f int64) money.Fen { return money.Fen(f) }
