package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/claimstock"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/platform/testdb"
)

type claimEnv struct {
	walletEnv
	stock *claimstock.Stock
}

func newClaimEnv(t *testing.T) claimEnv {
	t.Helper()
	e := newWallet(t)
	e.st.DB().SetMaxOpenConns(32)
	rdb, prefix := testdb.Redis(t)
	return claimEnv{walletEnv: e, stock: claimstock.New(rdb, prefix)}
}

// instance is one marketing replica's claims service, its queues running
// until stop.
func (e claimEnv) instance(t *testing.T, binders int) (*app.Claims, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	c := app.NewClaims(e.st, e.stock, e.clk, nil, nil, 0)
	c.Binders = binders
	c.RequeueEvery = time.Hour // the tests run the job themselves where they mean to
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	for !c.Accepting() {
		time.Sleep(time.Millisecond)
	}
	return c, stop, done
}

func (e claimEnv) campaign(t *testing.T, stock int64, limit int) domain.ClaimCampaign {
	t.Helper()
	tp := e.template(t, domain.TemplateSpec{})
	c := app.NewClaims(e.st, e.stock, e.clk, nil, nil, 0)
	cc, err := c.CreateCampaign(e.ctx, "", domain.ClaimCampaignSpec{Name: "pop-up", TemplateID: tp.ID(), Stock: stock, PerUserLimit: limit,
		StartsAt: w0.Add(-time.Minute), EndsAt: w0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// settle waits until no claim of the campaign is PENDING.
func (e claimEnv) settle(t *testing.T, campaign string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var pending int
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status='PENDING'`, campaign).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d claims still pending after %s", pending, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkNeverOversold checks the campaign's coupons against its stock and
// its claims: every bound claim has exactly its coupon, no customer more
// coupons than the limit, Redis's count and MariaDB's agree.
func (e claimEnv) checkNeverOversold(t *testing.T, cc domain.ClaimCampaign) (bound int64) {
	t.Helper()
	db := e.st.DB()
	var coupons, claimsBound, overLimit int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM coupons c JOIN coupon_claims k ON k.id=c.source_ref AND k.customer_id=c.customer_id
		WHERE c.source='CLAIM' AND k.campaign_id=?`, cc.ID).Scan(&coupons); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status='BOUND' AND coupon_id=id`, cc.ID).Scan(&claimsBound); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT c.customer_id FROM coupons c JOIN coupon_claims k ON k.id=c.source_ref
		WHERE k.campaign_id=? GROUP BY c.customer_id HAVING COUNT(*) > ?) x`, cc.ID, cc.Spec.PerUserLimit).Scan(&overLimit); err != nil {
		t.Fatal(err)
	}
	if coupons != claimsBound {
		t.Fatalf("%d coupons for %d bound claims", coupons, claimsBound)
	}
	if coupons > cc.Spec.Stock {
		t.Fatalf("oversold: %d coupons for a stock of %d", coupons, cc.Spec.Stock)
	}
	if overLimit > 0 {
		t.Fatalf("%d customers above the limit of %d", overLimit, cc.Spec.PerUserLimit)
	}
	left, err := e.stock.Left(e.ctx, cc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var owed int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM claim_givebacks WHERE campaign_id=?`, cc.ID).Scan(&owed); err != nil {
		t.Fatal(err)
	}
	var held int64 // units held by claims still pending
	if err := db.QueryRow(`SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status='PENDING'`, cc.ID).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if left+coupons+owed+held < cc.Spec.Stock || left+coupons > cc.Spec.Stock {
		t.Fatalf("stock %d: Redis has %d left, %d bound, %d owed back, %d pending", cc.Spec.Stock, left, coupons, owed, held)
	}
	return coupons
}

// 50 k claims for 10 k coupons from 20 k customers with a limit of 1, on
// two instances sharing MariaDB and Redis, customers tapping twice or
// three times (some retrying with the same key): exactly 10 k coupons,
// no customer twice, every accepted claim bound or refused.
func TestClaimRace50kClaimsFor10kCoupons(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 10_000, 1)
	a, _, _ := e.instance(t, 4)
	b, _, _ := e.instance(t, 4)
	const users, claims = 20_000, 50_000
	type tap struct {
		customer, key string
	}
	taps := make([]tap, 0, claims)
	for u := range users { // every customer taps twice...
		taps = append(taps, tap{fmt.Sprintf("U%07d", u), "k1"}, tap{fmt.Sprintf("U%07d", u), "k2"})
	}
	for len(taps) < claims { // ...and some a third time, or retry a key
		u := rand.IntN(users)
		taps = append(taps, tap{fmt.Sprintf("U%07d", u), []string{"k1", "k3"}[rand.IntN(2)]})
	}
	rand.Shuffle(len(taps), func(i, j int) { taps[i], taps[j] = taps[j], taps[i] })
	var next atomic.Int64
	var accepted, limit, out sync.Map
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 64 {
		inst := []*app.Claims{a, b}[w%2]
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= claims {
					return
				}
				tp := taps[i]
				cl, err := inst.Claim(e.ctx, tp.customer, cc.ID, tp.key)
				switch {
				case err == nil:
					accepted.Store(cl.ID, tp.customer)
				case errors.Is(err, domain.ErrClaimLimitReached):
					limit.Store(tp.customer+tp.key, true)
				case errors.Is(err, domain.ErrClaimOutOfStock):
					out.Store(tp.customer+tp.key, true)
				default:
					errs.Add(1)
					t.Errorf("claim %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if errs.Load() > 0 {
		t.FailNow()
	}
	e.settle(t, cc.ID, 2*time.Minute)
	bound := e.checkNeverOversold(t, cc)
	if bound != 10_000 {
		t.Fatalf("%d coupons bound, want exactly 10000", bound)
	}
	var customers, perCustomerMax int64
	if err := e.st.DB().QueryRow(`SELECT COUNT(DISTINCT customer_id) FROM coupon_claims WHERE campaign_id=? AND status='BOUND'`, cc.ID).
		Scan(&customers); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DB().QueryRow(`SELECT COALESCE(MAX(n),0) FROM (SELECT COUNT(*) n FROM coupon_claims WHERE campaign_id=? GROUP BY customer_id) x`,
		cc.ID).Scan(&perCustomerMax); err != nil {
		t.Fatal(err)
	}
	if customers != 10_000 || perCustomerMax != 1 {
		t.Fatalf("%d customers bound, at most %d claims a customer; want 10000 and 1", customers, perCustomerMax)
	}
	n := 0
	accepted.Range(func(id, _ any) bool {
		cl, err := a.Get(e.ctx, "", id.(string))
		if err != nil {
			t.Fatal(err)
		}
		if cl.Status == domain.ClaimPending || (cl.Status == domain.ClaimRefused && cl.Reason != domain.RefusedOutOfStock) {
			t.Fatalf("accepted claim %s ended %s %s", cl.ID, cl.Status, cl.Reason)
		}
		n++
		return true
	})
	left, _ := e.stock.Left(e.ctx, cc.ID)
	t.Logf("%d taps in %s (%.0f/s): %d claims accepted, 10000 bound, Redis left %d; refused at once: limit %d, out of stock %d",
		claims, took.Round(time.Millisecond), claims/took.Seconds(), n, left, count(&limit), count(&out))
}

func count(m *sync.Map) int {
	n := 0
	m.Range(func(_, _ any) bool { n++; return true })
	return n
}

// An instance stopped gracefully in the middle of a claim burst hands
// every claim its queues still hold to the broker; another instance
// issues them (its re-queue job idle: the hand-off alone does it), and
// every accepted claim ends bound or refused.
func TestClaimGracefulStopHandsOffEveryClaim(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 3_000, 1)
	a, stopA, doneA := e.instance(t, 1)
	a.BindBatch = 8 // a slow user-assets side: the queues fill
	b, _, _ := e.instance(t, 4)
	const claims = 5_000
	var next atomic.Int64
	var accepted sync.Map
	var wg sync.WaitGroup
	// SIGTERM at half the burst, as runtime.Run stops: A's listener takes
	// no new request (the load balancer sends the rest to B) and finishes
	// those in flight, then its workers (the queues) stop.
	var aStopped atomic.Bool
	var aInFlight sync.WaitGroup
	var mu sync.RWMutex
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= claims {
					return
				}
				if i == claims/2 && !aStopped.Swap(true) {
					go func() { mu.Lock(); aInFlight.Wait(); mu.Unlock(); stopA() }()
				}
				inst := b
				mu.RLock()
				if !aStopped.Load() {
					inst = a
					aInFlight.Add(1)
				}
				mu.RUnlock()
				cl, err := inst.Claim(e.ctx, fmt.Sprintf("G%06d", i), cc.ID, "k")
				if inst == a {
					aInFlight.Done()
				}
				if errors.Is(err, domain.ErrClaimOutOfStock) {
					continue
				}
				if err != nil {
					t.Errorf("claim %d: %v", i, err)
					return
				}
				accepted.Store(cl.ID, true)
			}
		})
	}
	wg.Wait()
	<-doneA
	if a.Stats.HandedOff.Load() == 0 {
		t.Fatal("A handed nothing off: the test stopped it too late to prove anything")
	}
	// The broker: the hand-off messages A's outbox holds go to B.
	rows, err := e.st.DB().Query(`SELECT seq, payload FROM outbox WHERE topic=?`, events.TopicClaimQueued)
	if err != nil {
		t.Fatal(err)
	}
	var handed int
	for rows.Next() {
		var seq int64
		var payload []byte
		if err := rows.Scan(&seq, &payload); err != nil {
			t.Fatal(err)
		}
		var ev events.ClaimQueued
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		for b.OnClaimQueued(e.ctx, ev) != nil { // full: redelivered
			time.Sleep(10 * time.Millisecond)
		}
		handed++
	}
	rows.Close()
	if int64(handed) != a.Stats.HandedOff.Load() {
		t.Fatalf("%d hand-off messages for %d claims handed off", handed, a.Stats.HandedOff.Load())
	}
	// B's re-queue job never ran (RequeueEvery is an hour): the hand-off
	// alone carried A's claims.
	e.settle(t, cc.ID, time.Minute)
	bound := e.checkNeverOversold(t, cc)
	n, refused := 0, 0
	accepted.Range(func(id, _ any) bool {
		cl, err := b.Get(e.ctx, "", id.(string))
		if err != nil {
			t.Fatal(err)
		}
		switch cl.Status {
		case domain.ClaimBound:
		case domain.ClaimRefused:
			refused++
		default:
			t.Fatalf("accepted claim %s ended %s", cl.ID, cl.Status)
		}
		n++
		return true
	})
	if bound != 3_000 {
		t.Fatalf("%d bound, want the whole stock of 3000", bound)
	}
	t.Logf("A stopped after %d claims issued, handed off %d; %d accepted in all: %d bound, %d refused; B re-queued %d",
		a.Stats.Issued.Load(), handed, n, bound, refused, b.Stats.Requeued.Load())
}

// Every refusal is precise and changes nothing: an unknown, ended or not
// yet started campaign, a customer at the limit, no stock left; a retry
// with the key answers the first claim, the key on another campaign is
// refused.
func TestClaimRefusals(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 3, 2)
	c := app.NewClaims(e.st, e.stock, e.clk, nil, nil, 0) // no queues: claims stay pending until viewed
	rows := func() (n int) {
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM coupon_claims`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	first, err := c.Claim(e.ctx, "C0001", cc.ID, "a")
	if err != nil || first.Status != domain.ClaimPending {
		t.Fatalf("first claim: %+v %v", first, err)
	}
	again, err := c.Claim(e.ctx, "C0001", cc.ID, "a")
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry with the key: %+v %v, want claim %s", again, err, first.ID)
	}
	if _, err := c.Claim(e.ctx, "C0001", cc.ID, "b"); err != nil {
		t.Fatal(err)
	}
	other := e.campaign(t, 3, 1)
	before := rows()
	for _, tc := range []struct {
		name, customer, campaign, key string
		want                          error
	}{
		{"limit reached", "C0001", cc.ID, "c", domain.ErrClaimLimitReached},
		{"key on another campaign", "C0001", other.ID, "a", domain.ErrKeyReused},
		{"unknown campaign", "C0002", "01J00000000000000000000000", "a", domain.ErrNotFound},
		{"not a customer", "x y", cc.ID, "a", domain.ErrValidation},
		{"no key", "C0002", cc.ID, " ", domain.ErrValidation},
	} {
		if _, err := c.Claim(e.ctx, tc.customer, tc.campaign, tc.key); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if rows() != before {
		t.Fatalf("refusals wrote claims: %d rows, %d before", rows(), before)
	}
	// The stock: C0002 and C0003 claim the last unit between them; the
	// customer viewing their coupons binds their claim on the spot.
	e.w.Pending = c.IssuePending
	if _, err := c.Claim(e.ctx, "C0002", cc.ID, "a"); err != nil {
		t.Fatal(err)
	}
	for _, cust := range []string{"C0001", "C0002"} {
		cs, err := e.w.Coupons(e.ctx, cust)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"C0001": 2, "C0002": 1}[cust]
		if len(cs) != want {
			t.Fatalf("%s sees %d coupons, want %d bound on the spot", cust, len(cs), want)
		}
	}
	before = rows()
	if _, err := c.Claim(e.ctx, "C0003", cc.ID, "a"); !errors.Is(err, domain.ErrClaimOutOfStock) {
		t.Fatalf("claim with no stock left: %v", err)
	}
	if again, err := c.Claim(e.ctx, "C0002", cc.ID, "a"); err != nil || again.Status != domain.ClaimBound {
		t.Fatalf("retry of a bound claim once the stock is gone: %+v %v", again, err)
	}
	e.clk.Advance(2 * time.Hour)
	if _, err := c.Claim(e.ctx, "C0004", other.ID, "a"); !errors.Is(err, domain.ErrClaimCampaignEnded) {
		t.Fatalf("claim on an ended campaign: %v", err)
	}
	if rows() != before {
		t.Fatal("refusals wrote claims")
	}
	late := app.NewClaims(e.st, e.stock, e.clk, nil, nil, 0)
	tp := e.template(t, domain.TemplateSpec{ValidFrom: w0, ValidTo: w0.Add(48 * time.Hour)})
	future, err := late.CreateCampaign(e.ctx, "", domain.ClaimCampaignSpec{Name: "later", TemplateID: tp.ID(), Stock: 1, PerUserLimit: 1,
		StartsAt: e.clk.Now().Add(time.Hour), EndsAt: e.clk.Now().Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Claim(e.ctx, "C0004", future.ID, "b"); !errors.Is(err, domain.ErrClaimCampaignNotStarted) {
		t.Fatalf("claim before the start: %v", err)
	}
	if _, err := late.CreateCampaign(e.ctx, "", domain.ClaimCampaignSpec{Name: "no gift", Stock: 1, PerUserLimit: 1,
		StartsAt: w0, EndsAt: w0.Add(time.Hour)}); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("campaign with no gift: %v", err)
	}
}

// A claim refused after its unit was taken (its template retired between
// the take and the store), the process dying before the give-back: the
// unit is counted as owed, never sold twice, and the reconciler returns
// it once however often it runs.
func TestClaimGivebackLostInACrashIsCountedAndReconciled(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 2, 1)
	c := app.NewClaims(e.st, e.stock, e.clk, nil, nil, 0)
	cl, err := c.Claim(e.ctx, "C0001", cc.ID, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rebuild(e.ctx, cc.ID); err != nil {
		t.Fatal(err)
	}
	// The rebuild gave the pending claim its unit already (Repeat).
	if _, outs, err := e.stock.Take(e.ctx, cc.ID, []string{cl.ID}); err != nil || outs[0] != claimstock.Repeat {
		t.Fatalf("take: %q %v", outs, err)
	}
	// The refusal committed with its give-back row, then the crash.
	if _, err := e.st.RefuseClaims(e.ctx, cc.ID, []string{cl.ID}, domain.RefusedTemplateRetired, true, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	_, n, err := c.Campaign(e.ctx, cc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n.GivebacksOwed != 1 || n.StockLeft != 1 || n.Refused != 1 {
		t.Fatalf("after the crash: %+v, want 1 give-back owed, 1 left", n)
	}
	for range 3 {
		if _, err := c.Reconcile(e.ctx, e.clk.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	_, n, _ = c.Campaign(e.ctx, cc.ID)
	if n.GivebacksOwed != 0 || n.StockLeft != 2 {
		t.Fatalf("after reconciling three times: %+v, want none owed, 2 left", n)
	}
	// A retry of the refused claim's issue takes nothing again.
	if err := c.Issue(e.ctx, cc.ID, []domain.Claim{cl}); err != nil {
		t.Fatal(err)
	}
	if _, n, _ = c.Campaign(e.ctx, cc.ID); n.StockLeft != 2 || n.GivebacksOwed != 0 || n.Bound != 0 {
		t.Fatalf("after re-issuing the refused claim: %+v, want its stray unit back", n)
	}
	e.checkNeverOversold(t, cc)
}

// Redis losing a campaign's counter in the middle of a burst: the counter
// is rebuilt from MariaDB, takes made on the lost one are refused at the
// binding (stale) and taken again, and the stock is never exceeded.
func TestClaimStockLostMidBurstIsNeverOversold(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 500, 1)
	a, _, _ := e.instance(t, 4)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= 1_500 {
					return
				}
				// Mid-burst only: a drop after the last take would leave no
				// counter to check, as Redis would until the next claim.
				if i%300 == 150 {
					if err := e.stock.Drop(e.ctx, cc.ID); err != nil { // Redis restarted, empty
						t.Error(err)
					}
				}
				if _, err := a.Claim(e.ctx, fmt.Sprintf("R%06d", i), cc.ID, "k"); err != nil && !errors.Is(err, domain.ErrClaimOutOfStock) {
					t.Errorf("claim %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	e.clk.Advance(31 * time.Second)
	if _, err := a.Requeue(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.settle(t, cc.ID, time.Minute)
	// Should no take follow the last drop, the next claim would rebuild it.
	if ok, err := e.stock.Exists(e.ctx, cc.ID); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := a.Rebuild(e.ctx, cc.ID); err != nil {
			t.Fatal(err)
		}
	}
	if bound := e.checkNeverOversold(t, cc); bound != 500 {
		t.Fatalf("%d bound, want the whole stock of 500", bound)
	}
}

// The per-user limit under concurrency, with stock to spare: customers
// tapping up to four times at once with different keys (limit 2) each end
// with exactly min(keys, 2) coupons.
func TestClaimLimitHoldsUnderConcurrency(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 100_000, 2)
	a, _, _ := e.instance(t, 4)
	b, _, _ := e.instance(t, 4)
	const users = 3_000
	type tap struct{ customer, key string }
	var taps []tap
	keys := map[string]map[string]bool{}
	for u := range users {
		cust := fmt.Sprintf("L%06d", u)
		keys[cust] = map[string]bool{}
		for range 1 + rand.IntN(4) {
			k := fmt.Sprintf("k%d", rand.IntN(4))
			keys[cust][k] = true
			taps = append(taps, tap{cust, k})
		}
	}
	rand.Shuffle(len(taps), func(i, j int) { taps[i], taps[j] = taps[j], taps[i] })
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range 48 {
		inst := []*app.Claims{a, b}[w%2]
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(taps) {
					return
				}
				if _, err := inst.Claim(e.ctx, taps[i].customer, cc.ID, taps[i].key); err != nil && !errors.Is(err, domain.ErrClaimLimitReached) {
					t.Errorf("claim %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	e.settle(t, cc.ID, time.Minute)
	e.checkNeverOversold(t, cc)
	rows, err := e.st.DB().Query(`SELECT customer_id, COUNT(*) FROM coupon_claims WHERE campaign_id=? AND status='BOUND' GROUP BY customer_id`, cc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		got[c] = n
	}
	for cust, ks := range keys {
		if want := min(len(ks), 2); got[cust] != want {
			t.Fatalf("%s: %d coupons from %d keys, want %d", cust, got[cust], len(ks), want)
		}
	}
	t.Logf("%d taps from %d customers: limit of 2 held", len(taps), users)
}

// campaignReadCounter counts the reads of a claim campaign and of its
// template's binding that the claims service makes.
type campaignReadCounter struct {
	app.ClaimRepository
	campaigns, templates atomic.Int64
}

func (r *campaignReadCounter) ClaimCampaign(ctx context.Context, id string) (domain.ClaimCampaign, error) {
	r.campaigns.Add(1)
	return r.ClaimRepository.ClaimCampaign(ctx, id)
}

func (r *campaignReadCounter) TemplateBinds(ctx context.Context, id string, now time.Time) (binds, err error) {
	r.templates.Add(1)
	return r.ClaimRepository.TemplateBinds(ctx, id, now)
}

// A peak's taps arriving together while the cached campaign is stale
// share one read of it (and of its template): each tap read them itself,
// hundreds of identical reads a second through the gateway. Every tap is
// still recorded, each with its own answer.
func TestClaimTapsShareOneCampaignRead(t *testing.T) {
	e := newClaimEnv(t)
	cc := e.campaign(t, 10_000, 1)
	reads := &campaignReadCounter{ClaimRepository: e.st}
	c := app.NewClaims(reads, e.stock, e.clk, nil, nil, 0)
	burst := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 300)
		for i := range 300 {
			wg.Go(func() {
				cl, err := c.Claim(e.ctx, fmt.Sprintf("R%d-%03d", round, i), cc.ID, "tap")
				if err == nil && cl.Status != domain.ClaimPending {
					err = fmt.Errorf("claim %s is %s, want PENDING", cl.ID, cl.Status)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	burst(1)
	if n, m := reads.campaigns.Load(), reads.templates.Load(); n != 1 || m != 1 {
		t.Fatalf("300 taps together read the campaign %d times and its template %d times, want once each", n, m)
	}
	e.clk.Advance(2 * time.Second) // the cached campaign is stale now
	burst(2)
	if n, m := reads.campaigns.Load(), reads.templates.Load(); n != 2 || m != 2 {
		t.Fatalf("after the cache went stale the campaign was read %d times and its template %d times in all, want twice each", n, m)
	}
	var recorded int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM coupon_claims WHERE campaign_id=?`, cc.ID).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != 600 {
		t.Fatalf("%d claims recorded, want 600", recorded)
	}
}
