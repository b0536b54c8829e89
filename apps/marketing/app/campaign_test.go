package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/daprx/daprxtest"
	"github.com/harvest/harvest/apps/platform/testdb"
)

type campaignEnv struct {
	walletEnv
	c       *app.Campaigns
	bi      *sim.Server
	biFails float64
}

func newCampaignEnv(t *testing.T, population int, biFail float64) campaignEnv {
	t.Helper()
	e := newWallet(t)
	pdb, _ := testdb.New(t, "partners")
	inv := daprxtest.NewLocal()
	s := sim.New(pdb, inv, e.clk, sim.Config{BIPopulation: population, BIFailRate: biFail}, nil)
	r := chi.NewRouter()
	s.Mount(r)
	inv.Set("partners", r)
	parts := pc.New(inv, "partners")
	c := app.NewCampaigns(e.st, parts, parts, e.clk, nil, nil)
	c.PageSize = 37 // many pages
	return campaignEnv{walletEnv: e, c: c, bi: s, biFails: biFail}
}

// msg is one outbox row as the relay would publish it.
type msg struct {
	seq       int64
	id, topic string
	payload   []byte
}

// pump is the broker for these tests: it takes what the outbox holds and
// delivers it to the consumers, at least once: every message is delivered
// again with probability dup after it succeeded (a consumer that committed
// and died before its ack), in shuffled order, by workers instances at
// once. A failed delivery (BI's 503) is retried. It runs until the outbox
// is empty.
func (e campaignEnv) pump(t *testing.T, workers int, dup float64, stopAfter int) int {
	t.Helper()
	delivered := 0
	for {
		rows, err := e.st.DB().Query(`SELECT seq, msg_id, topic, payload FROM outbox ORDER BY seq LIMIT 500`)
		if err != nil {
			t.Fatal(err)
		}
		var ms []*msg
		for rows.Next() {
			m := &msg{}
			if err := rows.Scan(&m.seq, &m.id, &m.topic, &m.payload); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		rows.Close()
		if len(ms) == 0 {
			return delivered
		}
		rand.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		var deliveries []*msg
		for _, m := range ms {
			deliveries = append(deliveries, m)
			if rand.Float64() < dup {
				deliveries = append(deliveries, m)
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		next := 0
		for range workers {
			wg.Go(func() {
				for {
					mu.Lock()
					if next >= len(deliveries) {
						mu.Unlock()
						return
					}
					m := deliveries[next]
					next++
					mu.Unlock()
					// A passing fault (BI busy, a deadlock) is redelivered, a
					// bounded number of times.
					for try := 0; ; try++ {
						err := e.deliver(m)
						if err == nil {
							break
						}
						if try == 50 {
							t.Errorf("%s %s still fails: %v", m.topic, m.id, err)
							return
						}
					}
					mu.Lock()
					delivered++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, m := range ms {
			if _, err := e.st.DB().Exec(`DELETE FROM outbox WHERE seq=?`, m.seq); err != nil {
				t.Fatal(err)
			}
		}
		if stopAfter > 0 && delivered >= stopAfter {
			return delivered
		}
	}
}

func (e campaignEnv) deliver(m *msg) error {
	ctx := context.Background()
	switch {
	case m.topic == events.TopicCampaignLaunched || m.topic == events.TopicCampaignPaged:
		var p events.CampaignPage
		_ = json.Unmarshal(m.payload, &p)
		return e.c.OnPage(ctx, m.id, p)
	case slices.Contains(events.UserMatchedTopics(), m.topic):
		var u events.UserMatched
		_ = json.Unmarshal(m.payload, &u)
		_, err := e.c.OnUsersMatched(ctx, []string{m.id}, []events.UserMatched{u})
		return err
	case m.topic == events.TopicCouponGranted:
		var g events.CouponGranted
		_ = json.Unmarshal(m.payload, &g)
		return e.c.OnCouponGranted(ctx, m.id, g)
	}
	return nil
}

func matching(population int, a pc.AudienceConditions) []string {
	var out []string
	for n := 1; n <= population; n++ {
		if sim.BIMatches(n, a) {
			u, _, _ := sim.BIUser(n)
			out = append(out, u.CustomerID)
		}
	}
	return out
}

func (e campaignEnv) couponsOf(t *testing.T, campaign string) map[string]int {
	t.Helper()
	rows, err := e.st.DB().Query(`SELECT customer_id, COUNT(*) FROM coupons WHERE source='CAMPAIGN' AND source_ref=? GROUP BY customer_id`, campaign)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		out[c] = n
	}
	return out
}

// Every matching user gets the coupon exactly once and excluded users
// never, with BI failing a fifth of its pages, every message delivered up
// to twice, in any order, by four consumers at once; every SMS counted
// once.
func TestCampaignGrantsEveryMatchingUserOnce(t *testing.T) {
	const population = 1_500
	e := newCampaignEnv(t, population, 0.2)
	tp := e.template(t, domain.TemplateSpec{})
	aud := pc.AudienceConditions{MinOrders: 10, Cities: []string{"Shanghai", "Hangzhou"}}
	want := matching(population, aud)
	excluded := []string{want[0], want[5], want[len(want)-1], "C9999999"}
	cc, err := e.c.Create(e.ctx, "k", domain.CouponCampaignSpec{Name: "双11", Audience: domain.Audience{MinOrders: 10, Cities: aud.Cities},
		Excluded: excluded, TemplateID: tp.ID(), Stock: 100_000, NotifySMS: true, SMSText: "COUPON_GRANTED"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Launch(e.ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Launch(e.ctx, cc.ID()); !errors.Is(err, domain.ErrCampaignState) {
		t.Fatalf("second launch: %v", err)
	}
	e.pump(t, 4, 0.5, 0)
	got := e.couponsOf(t, cc.ID())
	isExcluded := map[string]bool{}
	for _, x := range excluded {
		isExcluded[x] = true
	}
	for _, u := range want {
		switch n := got[u]; {
		case isExcluded[u] && n != 0:
			t.Errorf("excluded %s got %d coupons", u, n)
		case !isExcluded[u] && n != 1:
			t.Errorf("%s got %d coupons, want 1", u, n)
		}
	}
	if len(got) != len(want)-3 {
		t.Fatalf("%d users got coupons, want %d", len(got), len(want)-3)
	}
	done, _ := e.c.Get(e.ctx, cc.ID())
	p := done.Progress()
	if done.Status() != domain.CampaignCompleted || p.Matched != int64(len(want)) || p.Granted != int64(len(want)-3) ||
		p.SkippedExcluded != 3 || p.SMSSent != p.Granted || done.StockLeft() != 100_000-p.Granted {
		t.Fatalf("campaign %s progress %+v stock %d; want %d matched", done.Status(), p, done.StockLeft(), len(want))
	}
}

// Stock is never exceeded: 8 consumers race a bulk of users each against
// a stock of 25; exactly 25 coupons exist, and the rest are counted as
// out of stock.
func TestCampaignStockIsNeverExceeded(t *testing.T) {
	const population = 400
	e := newCampaignEnv(t, population, 0)
	tp := e.template(t, domain.TemplateSpec{})
	cc, err := e.c.Create(e.ctx, "", domain.CouponCampaignSpec{Name: "few", TemplateID: tp.ID(), Stock: 25})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Launch(e.ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	e.pump(t, 8, 0.3, 0)
	got := e.couponsOf(t, cc.ID())
	done, _ := e.c.Get(e.ctx, cc.ID())
	p := done.Progress()
	if len(got) != 25 || done.StockLeft() != 0 || p.Granted != 25 || p.SkippedNoStock != int64(population-25) {
		t.Fatalf("%d coupons, progress %+v, stock left %d", len(got), p, done.StockLeft())
	}
}

// Paused mid-campaign, users in flight are parked and no page is read;
// resumed, it goes on from its cursor and misses no one.
func TestCampaignPauseResumeMissesNoOne(t *testing.T) {
	const population = 600
	e := newCampaignEnv(t, population, 0)
	tp := e.template(t, domain.TemplateSpec{})
	cc, _ := e.c.Create(e.ctx, "", domain.CouponCampaignSpec{Name: "p", TemplateID: tp.ID(), Stock: 10_000})
	if _, err := e.c.Launch(e.ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	e.pump(t, 2, 0, 60) // part of it
	if _, err := e.c.Pause(e.ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	e.pump(t, 2, 0.2, 0)
	paused, _ := e.c.Get(e.ctx, cc.ID())
	if paused.Status() != domain.CampaignPaused || paused.Progress().Matched == int64(population) {
		t.Fatalf("paused campaign went on: %s %+v", paused.Status(), paused.Progress())
	}
	before := len(e.couponsOf(t, cc.ID()))
	if _, err := e.c.Resume(e.ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	e.pump(t, 3, 0.2, 0)
	got := e.couponsOf(t, cc.ID())
	done, _ := e.c.Get(e.ctx, cc.ID())
	if len(got) != population || done.Status() != domain.CampaignCompleted || before >= population {
		t.Fatalf("%d coupons (%d before resuming), status %s %+v", len(got), before, done.Status(), done.Progress())
	}
	for u, n := range got {
		if n != 1 {
			t.Fatalf("%s has %d", u, n)
		}
	}
	if _, err := e.c.Cancel(e.ctx, cc.ID()); !errors.Is(err, domain.ErrCampaignState) {
		t.Fatalf("cancel a completed campaign: %v", err)
	}
}

func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	e := newCampaignEnv(t, 10, 0)
	tp := e.template(t, domain.TemplateSpec{})
	for _, c := range []struct {
		spec domain.CouponCampaignSpec
		want string
	}{
		{domain.CouponCampaignSpec{Name: "no gift", Stock: 10}, "template_id"},
		{domain.CouponCampaignSpec{Name: "no stock", TemplateID: tp.ID()}, "stock"},
		{domain.CouponCampaignSpec{Name: "sms", TemplateID: tp.ID(), Stock: 1, NotifySMS: true}, "sms_template"},
		{domain.CouponCampaignSpec{Name: "unknown", TemplateID: "01NOSUCHTEMPLATE0000000000", Stock: 1}, "does not exist"},
		{domain.CouponCampaignSpec{Name: "bad", TemplateID: tp.ID(), Stock: 1, Excluded: []string{"not a customer"}}, "excluded"},
	} {
		_, err := e.c.Create(e.ctx, "", c.spec)
		if !errors.Is(err, domain.ErrValidation) || !contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a validation error naming %s", c.spec.Name, err, c.want)
		}
	}
	if cs, _ := e.c.List(e.ctx, "", 10); len(cs) != 0 {
		t.Fatalf("%d refused campaigns stored", len(cs))
	}
}

// Bulks of the same users arriving at once, as when BI lists users twice
// or a bulk is redelivered while its first delivery still runs, each read
// their users before the campaign's lock: every call still answers without
// an error, each user holds one coupon, and every message is counted once
// (granted once, the other listings ALREADY, the redelivered ones REPEAT).
func TestCampaignConcurrentBulksOfTheSameUsersBindOnce(t *testing.T) {
	const users, listings, redeliveries = 60, 4, 2
	e := newCampaignEnv(t, 10, 0)
	tp := e.template(t, domain.TemplateSpec{})
	cc, err := e.c.Create(e.ctx, "", domain.CouponCampaignSpec{Name: "twice", TemplateID: tp.ID(), Stock: 1_000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Launch(e.ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	bulk := make([]events.UserMatched, users)
	for i := range bulk {
		bulk[i] = events.UserMatched{CampaignID: cc.ID(), CustomerID: fmt.Sprintf("C%07d", 100+i)}
	}
	msgIDs := make([][]string, listings) // one message per user per listing
	for l := range msgIDs {
		for i := range users {
			msgIDs[l] = append(msgIDs[l], fmt.Sprintf("M%d-%d", l, i))
		}
	}
	var mu sync.Mutex
	counts := map[app.Outcome]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for l := range listings {
		for range redeliveries {
			wg.Go(func() {
				<-start
				out, err := e.c.OnUsersMatched(e.ctx, msgIDs[l], bulk)
				if err != nil {
					t.Errorf("listing %d: %v", l, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, o := range out {
					counts[o]++
				}
			})
		}
	}
	close(start)
	wg.Wait()
	got := e.couponsOf(t, cc.ID())
	for _, u := range bulk {
		if got[u.CustomerID] != 1 {
			t.Errorf("%s has %d coupons, want 1", u.CustomerID, got[u.CustomerID])
		}
	}
	want := map[app.Outcome]int{app.OutcomeGranted: users, app.OutcomeAlready: (listings - 1) * users,
		app.OutcomeRepeat: (redeliveries - 1) * listings * users}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", counts, want)
	}
	done, _ := e.c.Get(e.ctx, cc.ID())
	if p := done.Progress(); p.Granted != users || p.SkippedAlready != (listings-1)*users || done.StockLeft() != 1_000-users {
		t.Fatalf("progress %+v, stock left %d", p, done.StockLeft())
	}
}
