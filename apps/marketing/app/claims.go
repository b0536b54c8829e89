package app

// Pop-up claims (DOMAIN 3.3, the improved design). The campaign side
// records a claim and answers at once (PENDING); issuing goes through two
// local queues:
//
//   - layer 1, the campaign decision: does the claim still qualify (its
//     campaign exists, its template still binds)? A claim that does not is
//     refused before it takes stock.
//   - layer 2, the capacity of the user-assets side (the wallet): a fixed
//     number of binders, each taking a batch, deducting its units in Redis
//     first (one script per campaign), then storing the bindings in one
//     transaction; a claim refused for good after its unit was taken gives
//     the unit back, under a give-back row written with the refusal.
//
// Nothing in memory is the only record of a claim: the claim row is
// written before the answer. So a full queue, a crash or a lost message
// only delays a claim: the re-queue job takes up every claim still PENDING
// RequeueAfter (30 s) after it was recorded or last taken up. On a
// graceful stop the queues stop taking work and what they still hold is
// handed to the broker (marketing.claim.queued, through the outbox, which
// drains after the workers), for another instance. A customer viewing
// their coupons has their pending claims issued on the spot. Issuing a
// claim twice (re-queued while queued, handed off and viewed) binds once:
// units are taken per claim id and bindings are conditional on PENDING.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harvest/harvest/apps/marketing/claimstock"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/ids"
)

// ClaimRepository is what pop-up claims need persisted
// (apps/marketing/store implements it).
type ClaimRepository interface {
	CreateClaimCampaign(ctx context.Context, c domain.ClaimCampaign, key, hash string) (string, error)
	ClaimCampaign(ctx context.Context, id string) (domain.ClaimCampaign, error)
	// TemplateBinds answers the template's CanBind at now (binds), read
	// without the count of coupons issued that a Template carries.
	TemplateBinds(ctx context.Context, id string, now time.Time) (binds, err error)
	// RecordClaim records c PENDING in the customer's next slot, due for
	// the re-queue job at due; beyond limit domain.ErrClaimLimitReached; a
	// key used before answers that claim (created false).
	// unless, when set, refuses a claim whose key is new.
	RecordClaim(ctx context.Context, c domain.Claim, limit int, due time.Time, unless error) (domain.Claim, bool, error)
	Claim(ctx context.Context, id string) (domain.Claim, error)
	ClaimByKey(ctx context.Context, customerID, key string) (domain.Claim, error)
	PendingClaims(ctx context.Context, customerID string, limit int) ([]domain.Claim, error)
	LeaseDue(ctx context.Context, now, until time.Time, limit int) ([]domain.Claim, error)
	// BindClaims binds the claims still PENDING whose units were taken
	// from the counter of epoch (domain.ErrStaleStock when it was rebuilt
	// since); it answers those bound.
	BindClaims(ctx context.Context, campaignID string, epoch int64, claims []domain.Claim, now time.Time) ([]string, error)
	// RefuseClaims refuses the claims still PENDING; owed writes their
	// give-back rows with the refusal. It answers those refused.
	RefuseClaims(ctx context.Context, campaignID string, ids []string, reason string, owed bool, now time.Time) ([]string, error)
	// Owe writes give-back rows for units held by claims not pending.
	Owe(ctx context.Context, campaignID string, ids []string, now time.Time) error
	GivebacksDone(ctx context.Context, ids []string) error
	OwedGivebacks(ctx context.Context, before time.Time, limit int) (map[string][]string, error)
	// RebuildClaimStock recreates a missing counter (create writes Redis),
	// its keys expiring StockRetention after the campaign ends.
	RebuildClaimStock(ctx context.Context, campaignID string, now time.Time, create func(left, epoch int64, holders []string, expires time.Time) (bool, error)) error
	ClaimCounts(ctx context.Context, campaignID string) (domain.ClaimCounts, error)
	// HandOff writes one marketing.claim.queued message per claim.
	HandOff(ctx context.Context, claims []domain.Claim) error
}

// ClaimStock is the Redis stock of claim campaigns (*claimstock.Stock).
type ClaimStock interface {
	Take(ctx context.Context, campaign string, claims []string) (int64, []byte, error)
	GiveBack(ctx context.Context, campaign string, claims []string) (int, error)
	Left(ctx context.Context, campaign string) (int64, error)
	Create(ctx context.Context, campaign string, left, epoch int64, holders []string, expires time.Time) (bool, error)
}

var _ ClaimStock = (*claimstock.Stock)(nil)

// ClaimStats counts what an instance's queues did (tests and logs).
type ClaimStats struct {
	Accepted, Issued, HandedOff, Requeued, GivenBack atomic.Int64
}

// Claims runs pop-up claims.
type Claims struct {
	store  ClaimRepository
	stock  ClaimStock
	clock  clock.Clock
	log    *slog.Logger
	notify func()

	// RequeueAfter is how long a claim may stay PENDING before the job
	// takes it up again; RequeueEvery how often the job looks.
	RequeueAfter, RequeueEvery time.Duration
	// Binders is the user-assets capacity: binders working at once, each
	// on a batch of up to BindBatch claims.
	Binders, BindBatch int

	layer1, layer2 chan domain.Claim
	accepting      atomic.Bool
	Stats          ClaimStats

	mu        sync.Mutex
	campaigns map[string]cachedCampaign
	knownKeys map[string][]string // "campaign|customer" → keys of their claims (known)
	// Reads in flight, by campaign, that taps arriving meanwhile share: at
	// a peak every tap asked for what one read tells all the taps of the
	// moment (a round trip each to Redis for the count; to MariaDB, when
	// the cached campaign went stale, for the campaign and its template:
	// hundreds of identical reads a second).
	leftReads     map[string]*flight[int64]
	campaignReads map[string]*flight[cachedCampaign]
}

// flight is a read in flight: callers arriving while it is under way take
// its answer, so a caller never takes one read before it arrived plus one
// round trip. The count only steers the early refusal (the take in Redis
// is what never oversells); the campaign is cached for campaignTTL anyway.
type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// shared runs read for key unless a read of key is in flight, and answers
// that read's result (or ctx's end). The read itself runs to its end
// whoever gave up: others wait on it.
func shared[T any](ctx context.Context, mu *sync.Mutex, inFlight map[string]*flight[T], key string, read func(context.Context) (T, error)) (T, error) {
	mu.Lock()
	f, ok := inFlight[key]
	if !ok {
		f = &flight[T]{done: make(chan struct{})}
		inFlight[key] = f
	}
	mu.Unlock()
	if !ok {
		f.val, f.err = read(context.WithoutCancel(ctx))
		mu.Lock()
		delete(inFlight, key)
		mu.Unlock()
		close(f.done)
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

type cachedCampaign struct {
	c       domain.ClaimCampaign
	binds   error // the template's answer to "do you bind now?"
	readAt  time.Time
	missing bool
}

// campaignTTL bounds how stale a cached campaign (its window, limit,
// template's status) may be. Window and limit never change; a template
// retired meanwhile is caught again by the binding's own check.
const campaignTTL = time.Second

// NewClaims returns the claims service; queue bounds each local queue.
// Run starts its queues.
func NewClaims(st ClaimRepository, stock ClaimStock, clk clock.Clock, notify func(), log *slog.Logger, queue int) *Claims {
	if log == nil {
		log = slog.Default()
	}
	if notify == nil {
		notify = func() {}
	}
	if queue <= 0 {
		queue = 100_000
	}
	return &Claims{store: st, stock: stock, clock: clk, log: log, notify: notify, RequeueAfter: 30 * time.Second, RequeueEvery: 5 * time.Second,
		Binders: 4, BindBatch: 256, layer1: make(chan domain.Claim, queue), layer2: make(chan domain.Claim, 4*256),
		campaigns: map[string]cachedCampaign{}, leftReads: map[string]*flight[int64]{},
		campaignReads: map[string]*flight[cachedCampaign]{}}
}

func (c *Claims) now() time.Time { return c.clock.Now().UTC().Truncate(time.Microsecond) }

// CreateCampaign defines a claim campaign; a retry with the key returns
// the campaign created first.
func (c *Claims) CreateCampaign(ctx context.Context, key string, spec domain.ClaimCampaignSpec) (domain.ClaimCampaign, error) {
	if err := checkKey(key, false); err != nil {
		return domain.ClaimCampaign{}, err
	}
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return domain.ClaimCampaign{}, err
	}
	cc := domain.ClaimCampaign{ID: ids.New(), Spec: spec, CreatedAt: c.now()}
	id, err := c.store.CreateClaimCampaign(ctx, cc, key, domain.RequestHash(spec))
	if err != nil {
		return domain.ClaimCampaign{}, err
	}
	return c.store.ClaimCampaign(ctx, id)
}

// Campaign returns a claim campaign and what its claims came to.
func (c *Claims) Campaign(ctx context.Context, id string) (domain.ClaimCampaign, domain.ClaimCounts, error) {
	cc, err := c.store.ClaimCampaign(ctx, id)
	if err != nil {
		return cc, domain.ClaimCounts{}, err
	}
	n, err := c.store.ClaimCounts(ctx, id)
	if err != nil {
		return cc, n, err
	}
	n.StockLeft = -1
	if left, err := c.stock.Left(ctx, id); err == nil {
		n.StockLeft = left
	} else if !errors.Is(err, claimstock.ErrMissing) {
		return cc, n, err
	}
	return cc, n, nil
}

// cached returns the campaign as read at most campaignTTL ago; the taps
// that find it stale share one read.
func (c *Claims) cached(ctx context.Context, id string) (cachedCampaign, error) {
	c.mu.Lock()
	e, ok := c.campaigns[id]
	c.mu.Unlock()
	if ok && c.now().Sub(e.readAt) < campaignTTL {
		return e, nil
	}
	return shared(ctx, &c.mu, c.campaignReads, id, func(ctx context.Context) (cachedCampaign, error) { return c.readCampaign(ctx, id) })
}

// readCampaign reads a campaign and whether its template binds now, and
// caches them.
func (c *Claims) readCampaign(ctx context.Context, id string) (cachedCampaign, error) {
	now := c.now()
	cc, err := c.store.ClaimCampaign(ctx, id)
	var e cachedCampaign
	switch {
	case errors.Is(err, domain.ErrNotFound):
		e = cachedCampaign{missing: true, readAt: now}
	case err != nil:
		return cachedCampaign{}, err
	default:
		e = cachedCampaign{c: cc, readAt: now}
		if e.binds, err = c.store.TemplateBinds(ctx, cc.Spec.TemplateID, now); err != nil {
			return cachedCampaign{}, err
		}
	}
	c.mu.Lock()
	c.campaigns[id] = e
	c.mu.Unlock()
	return e, nil
}

// Claim records a customer's claim and answers at once: PENDING (bound
// later, or on the spot when they view their coupons), or a refusal that
// changes nothing: the campaign unknown, not started or ended, the
// customer at the campaign's limit, the stock gone. A retry with the key
// answers the claim recorded first.
func (c *Claims) Claim(ctx context.Context, customerID, campaignID, key string) (domain.Claim, error) {
	key = strings.TrimSpace(key)
	switch {
	case !domain.ValidCustomerID(customerID):
		return domain.Claim{}, invalid("customer_id %q is not a customer id", customerID)
	case key == "" || len(key) > 64:
		return domain.Claim{}, invalid("idempotency_key is required (at most 64 bytes)")
	case campaignID == "" || len(campaignID) > 26:
		return domain.Claim{}, invalid("campaign_id is required")
	}
	e, err := c.cached(ctx, campaignID)
	if err != nil {
		return domain.Claim{}, err
	}
	now := c.now()
	refuse := func(err error) (domain.Claim, error) {
		// A retry of a claim recorded before its refusal applied answers
		// that claim.
		if prior, perr := c.store.ClaimByKey(ctx, customerID, key); perr == nil && prior.CampaignID == campaignID {
			return prior, nil
		}
		return domain.Claim{}, err
	}
	if e.missing {
		return refuse(fmt.Errorf("%w: claim campaign %s", domain.ErrNotFound, campaignID))
	}
	if err := e.c.CanClaim(now); err != nil {
		return refuse(err)
	}
	// A cheap early answer, given unless the key was used before (read
	// with the group's keys); the take in Redis is what never oversells.
	var gone error
	if left, err := c.left(ctx, campaignID); err == nil && left <= 0 {
		gone = fmt.Errorf("campaign %s has no coupon left: %w", campaignID, domain.ErrClaimOutOfStock)
	}
	if c.full(campaignID, customerID, key, e.c.Spec.PerUserLimit) {
		return domain.Claim{}, fmt.Errorf("customer %s holds %d claims on campaign %s, its limit: %w", customerID, e.c.Spec.PerUserLimit, campaignID,
			domain.ErrClaimLimitReached)
	}
	cl, created, err := c.store.RecordClaim(ctx, domain.Claim{ID: ids.New(), CampaignID: campaignID, CustomerID: customerID, Key: key,
		Status: domain.ClaimPending, CreatedAt: now, UpdatedAt: now}, e.c.Spec.PerUserLimit, now.Add(c.RequeueAfter), gone)
	if err != nil {
		return domain.Claim{}, err
	}
	c.known(cl)
	if created {
		c.Stats.Accepted.Add(1)
		c.enqueue(cl)
	}
	return cl, nil
}

// left reads the campaign's Redis count, sharing a read in flight.
func (c *Claims) left(ctx context.Context, campaignID string) (int64, error) {
	return shared(ctx, &c.mu, c.leftReads, campaignID, func(ctx context.Context) (int64, error) { return c.stock.Left(ctx, campaignID) })
}

// maxKnown bounds the keys remembered (knownKeys); past it they are
// forgotten at once, and taps go to the database until it fills again.
const maxKnown = 200_000

// known remembers a claim's key for its customer and campaign. Claims are
// never deleted and slots never freed, so a customer whose limit of keys
// are all known holds the limit: a tap with another key is refused
// without asking the database (full). A tap with a known key is a retry,
// answered from the database. (A key the customer used on another
// campaign, unseen here, is refused as CLAIM_LIMIT_REACHED here where the
// database would say IDEMPOTENCY_KEY_REUSED; nothing is recorded either way.)
func (c *Claims) known(cl domain.Claim) {
	k := cl.CampaignID + "|" + cl.CustomerID
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.knownKeys == nil || len(c.knownKeys) >= maxKnown {
		c.knownKeys = map[string][]string{}
	}
	if !slices.Contains(c.knownKeys[k], cl.Key) {
		c.knownKeys[k] = append(c.knownKeys[k], cl.Key)
	}
}

// full reports whether the customer holds limit claims on the campaign,
// none of them of key.
func (c *Claims) full(campaignID, customerID, key string, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := c.knownKeys[campaignID+"|"+customerID]
	return len(keys) >= limit && !slices.Contains(keys, key)
}

// Get returns one of the customer's claims (another's is not found).
func (c *Claims) Get(ctx context.Context, customerID, id string) (domain.Claim, error) {
	cl, err := c.store.Claim(ctx, id)
	if err != nil {
		return cl, err
	}
	if customerID != "" && cl.CustomerID != customerID {
		return domain.Claim{}, fmt.Errorf("%w: claim %s", domain.ErrNotFound, id)
	}
	return cl, nil
}

// enqueue puts a claim on layer 1 if this instance takes work and the
// queue has room; otherwise the re-queue job (of any instance) takes it.
func (c *Claims) enqueue(cl domain.Claim) bool {
	if !c.accepting.Load() {
		return false
	}
	select {
	case c.layer1 <- cl:
		return true
	default:
		return false
	}
}

// OnClaimQueued takes a claim another instance handed off into this
// instance's queues; refused (redelivered) while this one is stopping or
// full.
func (c *Claims) OnClaimQueued(_ context.Context, ev events.ClaimQueued) error {
	if ev.ClaimID == "" || ev.CampaignID == "" || ev.CustomerID == "" {
		return invalid("a handed-off claim names its id, campaign and customer")
	}
	if c.enqueue(domain.Claim{ID: ev.ClaimID, CampaignID: ev.CampaignID, CustomerID: ev.CustomerID, Status: domain.ClaimPending}) {
		return nil
	}
	return fmt.Errorf("claim %s: this instance takes no work now", ev.ClaimID)
}

// Accepting reports whether this instance's queues take work (Run has
// started and ctx not ended).
func (c *Claims) Accepting() bool { return c.accepting.Load() }

// Run serves the queues until ctx ends, then stops taking work, lets the
// binders finish their batch, and hands what is left to the broker.
func (c *Claims) Run(ctx context.Context) error {
	c.accepting.Store(true)
	var deciders, binders sync.WaitGroup
	for range 2 {
		deciders.Go(func() { c.decide(ctx) })
	}
	for range c.Binders {
		binders.Go(func() { c.bind(ctx) })
	}
	jobDone := make(chan struct{})
	go func() { defer close(jobDone); c.runRequeue(ctx) }()
	<-ctx.Done()
	c.accepting.Store(false)
	deciders.Wait()
	binders.Wait()
	<-jobDone
	var left []domain.Claim
	for _, ch := range []chan domain.Claim{c.layer2, c.layer1} {
	drain:
		for {
			select {
			case cl := <-ch:
				left = append(left, cl)
			default:
				break drain
			}
		}
	}
	if len(left) == 0 {
		return nil
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.store.HandOff(hctx, left); err != nil {
		// They stay PENDING: the re-queue job of another instance takes them.
		c.log.Warn("claims not handed off; the re-queue job will take them", "claims", len(left), "err", err)
		return nil
	}
	c.Stats.HandedOff.Add(int64(len(left)))
	c.notify()
	c.log.Info("claims handed to the broker on stop", "claims", len(left))
	return nil
}

// decide is a layer-1 worker: claims whose campaign is gone or whose
// template binds no more are refused before taking stock (a re-queued
// claim may hold a unit already: the refusal owes it back, and the
// give-back finds nothing to return when it held none); the others go to
// layer 2, waiting for its room (the user-assets side's capacity).
func (c *Claims) decide(ctx context.Context) {
	for {
		var first domain.Claim
		select {
		case <-ctx.Done():
			return
		case first = <-c.layer1:
		}
		batch, _ := group.Gather(c.layer1, first, 256, 0, 0)
		for i, cl := range batch {
			e, err := c.cached(ctx, cl.CampaignID)
			switch {
			case err != nil:
				c.log.Warn("claim decision failed; the re-queue job retries", "claim", cl.ID, "err", err)
				continue
			case e.missing:
				c.refuse(ctx, cl.CampaignID, []string{cl.ID}, domain.RefusedCampaignGone, true)
				continue
			case e.binds != nil:
				c.refuse(ctx, cl.CampaignID, []string{cl.ID}, refusalOf(e.binds), true)
				continue
			}
			select {
			case c.layer2 <- cl:
			case <-ctx.Done():
				// Back on layer 1 for the hand-off, with the rest of the batch.
				for _, rest := range batch[i:] {
					select {
					case c.layer1 <- rest:
					default: // stays PENDING for the re-queue job
					}
				}
				return
			}
		}
	}
}

func refusalOf(err error) string {
	switch {
	case errors.Is(err, domain.ErrTemplateRetired):
		return domain.RefusedTemplateRetired
	case errors.Is(err, domain.ErrTemplateEnded):
		return domain.RefusedTemplateEnded
	case errors.Is(err, domain.ErrNotFound):
		return domain.RefusedCampaignGone
	}
	return ""
}

// bind is a layer-2 worker: a batch at a time, by campaign. A batch once
// taken is finished even when ctx ends (its units are taken in Redis).
func (c *Claims) bind(ctx context.Context) {
	for {
		var first domain.Claim
		select {
		case <-ctx.Done():
			return
		case first = <-c.layer2:
		}
		// Binding waits on throughput, not on the customer (answered
		// already): a batch lingers a moment for more, so one transaction
		// binds many.
		batch, _ := group.Gather(c.layer2, first, c.BindBatch, 5*time.Millisecond, 1)
		byCampaign := map[string][]domain.Claim{}
		var order []string
		for _, cl := range batch {
			if _, ok := byCampaign[cl.CampaignID]; !ok {
				order = append(order, cl.CampaignID)
			}
			byCampaign[cl.CampaignID] = append(byCampaign[cl.CampaignID], cl)
		}
		bctx := context.WithoutCancel(ctx)
		for _, id := range order {
			if err := c.Issue(bctx, id, byCampaign[id]); err != nil {
				c.log.Warn("claims not issued; the re-queue job retries", "campaign", id, "claims", len(byCampaign[id]), "err", err)
			}
		}
	}
}

// Issue issues claims of one campaign: units taken in Redis first, then
// the bindings stored; claims with no unit left are refused; a template
// that no longer binds refuses the claims and gives their units back. An
// error leaves the claims PENDING, their units (if taken) held for them:
// the next try finds them taken (a take is per claim id) and stores them.
func (c *Claims) Issue(ctx context.Context, campaignID string, claims []domain.Claim) error {
	ids := make([]string, len(claims))
	for i, cl := range claims {
		ids[i] = cl.ID
	}
	for attempt := 0; attempt < 4; attempt++ {
		epoch, outs, err := c.stock.Take(ctx, campaignID, ids)
		if errors.Is(err, claimstock.ErrMissing) {
			if err := c.Rebuild(ctx, campaignID); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		var took []domain.Claim
		var out []string
		for i, o := range outs {
			if o == claimstock.Out {
				out = append(out, ids[i])
			} else {
				took = append(took, claims[i])
			}
		}
		now := c.now()
		if len(out) > 0 {
			if _, err := c.store.RefuseClaims(ctx, campaignID, out, domain.RefusedOutOfStock, false, now); err != nil {
				return err
			}
		}
		if len(took) == 0 {
			return nil
		}
		bound, err := c.store.BindClaims(ctx, campaignID, epoch, took, now)
		switch {
		case errors.Is(err, domain.ErrStaleStock):
			continue // the counter was rebuilt: take again on the current one
		case refusalOf(err) != "":
			return c.refuse(ctx, campaignID, domain.ClaimIDs(took), refusalOf(err), true)
		case err != nil:
			return err
		}
		c.Stats.Issued.Add(int64(len(bound)))
		// A unit taken now for a claim that was not pending any more (a
		// stale copy of a claim refused, or bound before Redis was
		// rebuilt) belongs to nobody: it goes back, owed until it has.
		var strays []string
		isBound := make(map[string]bool, len(bound))
		for _, id := range bound {
			isBound[id] = true
		}
		for i, o := range outs {
			if o == claimstock.Taken && !isBound[ids[i]] {
				strays = append(strays, ids[i])
			}
		}
		if len(strays) == 0 {
			return nil
		}
		if err := c.store.Owe(ctx, campaignID, strays, now); err != nil {
			return err
		}
		return c.giveBack(ctx, campaignID, strays)
	}
	return fmt.Errorf("campaign %s: its stock counter kept changing", campaignID)
}

// refuse refuses claims; with owed their units go back to Redis after the
// refusal (and its give-back rows) committed.
func (c *Claims) refuse(ctx context.Context, campaignID string, ids []string, reason string, owed bool) error {
	refused, err := c.store.RefuseClaims(ctx, campaignID, ids, reason, owed, c.now())
	if err != nil || !owed || len(refused) == 0 {
		return err
	}
	return c.giveBack(ctx, campaignID, refused)
}

// giveBack returns the units of refused claims and clears their rows; a
// failure leaves the rows for the reconciler.
func (c *Claims) giveBack(ctx context.Context, campaignID string, claims []string) error {
	n, err := c.stock.GiveBack(ctx, campaignID, claims)
	if err != nil {
		return err
	}
	c.Stats.GivenBack.Add(int64(n))
	return c.store.GivebacksDone(ctx, claims)
}

// Rebuild recreates a campaign's Redis counter from MariaDB (see
// claimstock's package doc).
func (c *Claims) Rebuild(ctx context.Context, campaignID string) error {
	return c.store.RebuildClaimStock(ctx, campaignID, c.now(), func(left, epoch int64, holders []string, expires time.Time) (bool, error) {
		return c.stock.Create(ctx, campaignID, left, epoch, holders, expires)
	})
}

// IssuePending issues a customer's pending claims now (viewing their
// coupons). A failure is logged: the coupons are listed anyway and the
// claims stay for the queues.
func (c *Claims) IssuePending(ctx context.Context, customerID string) {
	pending, err := c.store.PendingClaims(ctx, customerID, 50)
	if err != nil {
		c.log.Warn("pending claims not read", "customer", customerID, "err", err)
		return
	}
	byCampaign := map[string][]domain.Claim{}
	for _, cl := range pending {
		byCampaign[cl.CampaignID] = append(byCampaign[cl.CampaignID], cl)
	}
	for id, cs := range byCampaign {
		e, err := c.cached(ctx, id)
		if err == nil && e.missing {
			err = c.refuse(ctx, id, domain.ClaimIDs(cs), domain.RefusedCampaignGone, true)
		} else if err == nil {
			err = c.Issue(ctx, id, cs)
		}
		if err != nil {
			c.log.Warn("pending claims not issued on the spot", "customer", customerID, "campaign", id, "err", err)
		}
	}
}

// runRequeue is the compensation job: every RequeueEvery it takes up the
// claims PENDING past their due time, and gives back the units owed for
// refused claims whose give-back a crash cut short.
func (c *Claims) runRequeue(ctx context.Context) {
	t := time.NewTicker(c.RequeueEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Requeue(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("claim re-queue", "err", err)
		}
		if _, err := c.Reconcile(ctx, c.now().Add(-10*time.Second)); err != nil && ctx.Err() == nil {
			c.log.Warn("claim give-back reconcile", "err", err)
		}
	}
}

// Requeue takes up the claims due (leased for RequeueAfter) onto layer 1.
func (c *Claims) Requeue(ctx context.Context) (int, error) {
	now := c.now()
	n := 0
	for range 20 {
		room := cap(c.layer1) - len(c.layer1)
		if room < 1 || !c.accepting.Load() {
			break
		}
		due, err := c.store.LeaseDue(ctx, now, now.Add(c.RequeueAfter), min(room, 1_000))
		if err != nil {
			return n, err
		}
		for _, cl := range due {
			if c.enqueue(cl) {
				n++
			}
		}
		if len(due) < 1_000 {
			break
		}
	}
	c.Stats.Requeued.Add(int64(n))
	return n, nil
}

// Reconcile gives back the units owed since before (rows a crash left).
func (c *Claims) Reconcile(ctx context.Context, before time.Time) (int, error) {
	owed, err := c.store.OwedGivebacks(ctx, before, 1_000)
	if err != nil {
		return 0, err
	}
	n := 0
	for camp, claims := range owed {
		if err := c.giveBack(ctx, camp, claims); err != nil {
			return n, err
		}
		n += len(claims)
	}
	return n, nil
}
