package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/marketing/app"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/testdb"
)

var w0 = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)

// fakePay answers hold states as a test sets them.
type fakePay struct {
	mu     sync.Mutex
	states map[string]domain.HoldState
	asked  int
}

func (f *fakePay) HoldState(_ context.Context, id string) (domain.HoldState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	st, ok := f.states[id]
	if !ok {
		return domain.HoldVoid, nil
	}
	return st, nil
}

func (f *fakePay) set(id string, st domain.HoldState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states[id] = st
}

type walletEnv struct {
	w   *app.Wallet
	st  *store.Store
	pay *fakePay
	clk *clock.Fixed
	ctx context.Context
}

func newWallet(t *testing.T) walletEnv {
	t.Helper()
	db, _ := testdb.New(t, "marketing")
	db.SetMaxOpenConns(16)
	st := store.New(db)
	clk := clock.NewFixed(w0)
	pay := &fakePay{states: map[string]domain.HoldState{}}
	return walletEnv{w: app.NewWallet(st, pay, clk, nil), st: st, pay: pay, clk: clk, ctx: context.Background()}
}

func (e walletEnv) template(t *testing.T, spec domain.TemplateSpec) domain.Template {
	t.Helper()
	if spec.Title == "" {
		spec.Title = "满99减10"
	}
	if spec.ValueFen == 0 {
		spec.ValueFen = 1_000
	}
	if spec.ValidFrom.IsZero() {
		spec.ValidFrom, spec.ValidTo = w0.Add(-time.Hour), w0.Add(24*time.Hour)
	}
	tp, err := e.w.CreateTemplate(e.ctx, "", spec)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestTemplateValidationNamesTheField(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	for _, c := range []struct {
		spec domain.TemplateSpec
		want string
	}{
		{domain.TemplateSpec{ValueFen: 100, ValidFrom: w0, ValidTo: w0.Add(time.Hour)}, "title"},
		{domain.TemplateSpec{Title: "x", ValidFrom: w0, ValidTo: w0.Add(time.Hour)}, "value_fen"},
		{domain.TemplateSpec{Title: "x", ValueFen: 500, ThresholdFen: 100, ValidFrom: w0, ValidTo: w0.Add(time.Hour)}, "threshold_fen"},
		{domain.TemplateSpec{Title: "x", ValueFen: 500, ValidFrom: w0, ValidTo: w0}, "valid_to"},
	} {
		_, err := e.w.CreateTemplate(e.ctx, "", c.spec)
		if !errors.Is(err, domain.ErrValidation) || !contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want a validation error naming %s", c.spec, err, c.want)
		}
	}
	if ts, _ := e.w.Templates(e.ctx, "", 10); len(ts) != 0 {
		t.Fatalf("bad templates were stored: %d", len(ts))
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestTemplateKeyAndUpdateRules(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	spec := domain.TemplateSpec{Title: "10 off", ValueFen: 1_000, ThresholdFen: 9_900, SKUs: []string{"SKU-1"}, ValidFrom: w0, ValidTo: w0.Add(time.Hour)}
	a, err := e.w.CreateTemplate(e.ctx, "k1", spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.w.CreateTemplate(e.ctx, "k1", spec)
	if err != nil || b.ID() != a.ID() {
		t.Fatalf("retry: %v %s vs %s", err, b.ID(), a.ID())
	}
	spec2 := spec
	spec2.ValueFen = 2_000
	if _, err := e.w.CreateTemplate(e.ctx, "k1", spec2); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused with other input: %v", err)
	}
	// Unused: anything may change.
	if _, err := e.w.UpdateTemplate(e.ctx, a.ID(), spec2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.w.Grant(e.ctx, "g1", a.ID(), "C1"); err != nil {
		t.Fatal(err)
	}
	spec3 := spec2
	spec3.ValueFen = 3_000
	if _, err := e.w.UpdateTemplate(e.ctx, a.ID(), spec3); !errors.Is(err, domain.ErrTemplateInUse) {
		t.Fatalf("value changed under a bound coupon: %v", err)
	}
	spec4 := spec2
	spec4.Title, spec4.ValidTo = "renamed", spec2.ValidTo.Add(time.Hour)
	if got, err := e.w.UpdateTemplate(e.ctx, a.ID(), spec4); err != nil || got.Spec().Title != "renamed" {
		t.Fatalf("rename and longer window: %v", err)
	}
	if err := e.w.DeleteTemplate(e.ctx, a.ID()); !errors.Is(err, domain.ErrTemplateInUse) {
		t.Fatalf("deleted a template with a bound coupon: %v", err)
	}
	if _, err := e.w.RetireTemplate(e.ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.w.Grant(e.ctx, "g2", a.ID(), "C2"); !errors.Is(err, domain.ErrTemplateRetired) {
		t.Fatalf("bound from a retired template: %v", err)
	}
	unused := e.template(t, domain.TemplateSpec{})
	if err := e.w.DeleteTemplate(e.ctx, unused.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Template(e.ctx, unused.ID()); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("deleted template still there: %v", err)
	}
}

func TestConcurrentGrantsOfOneKeyBindOnce(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{})
	var wg sync.WaitGroup
	var created atomic.Int32
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, fresh, err := e.w.Grant(e.ctx, "same-key", tp.ID(), "C1")
			if err != nil {
				t.Error(err)
				return
			}
			if fresh {
				created.Add(1)
			}
			ids[i] = c.ID
		}()
	}
	wg.Wait()
	cs, _ := e.w.Coupons(e.ctx, "C1")
	if created.Load() != 1 || len(cs) != 1 {
		t.Fatalf("created %d, coupons %d: want 1 and 1", created.Load(), len(cs))
	}
	for _, id := range ids {
		if id != cs[0].ID {
			t.Fatalf("a caller got coupon %s, the wallet holds %s", id, cs[0].ID)
		}
	}
}

func TestHoldRaceHasOneWinner(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{})
	c, _, err := e.w.Grant(e.ctx, "g", tp.ID(), "C1")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.w.Hold(e.ctx, ids.New(), "C1", []string{c.ID})
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, domain.ErrCouponNotUsable):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d holds took one coupon", won.Load())
	}
}

func TestHoldRefusals(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	live := e.template(t, domain.TemplateSpec{})
	ended := e.template(t, domain.TemplateSpec{ValidFrom: w0.Add(-2 * time.Hour), ValidTo: w0.Add(time.Minute)})
	later := e.template(t, domain.TemplateSpec{ValidFrom: w0.Add(time.Hour), ValidTo: w0.Add(2 * time.Hour)})
	mine, _, _ := e.w.Grant(e.ctx, "a", live.ID(), "C1")
	theirs, _, _ := e.w.Grant(e.ctx, "b", live.ID(), "C2")
	old, _, _ := e.w.Grant(e.ctx, "c", ended.ID(), "C1")
	early, _, _ := e.w.Grant(e.ctx, "d", later.ID(), "C1")
	e.clk.Advance(2 * time.Minute) // ended has expired
	for _, c := range []struct {
		ids  []string
		want error
	}{
		{[]string{theirs.ID}, domain.ErrCouponNotFound},
		{[]string{"nope"}, domain.ErrCouponNotFound},
		{[]string{mine.ID, old.ID}, domain.ErrCouponExpired},
		{[]string{early.ID}, domain.ErrCouponNotStarted},
	} {
		if _, err := e.w.Hold(e.ctx, ids.New(), "C1", c.ids); !errors.Is(err, c.want) {
			t.Errorf("hold %v: %v, want %v", c.ids, err, c.want)
		}
	}
	// Nothing changed: the valid coupon of the refused pair is still available.
	got, _ := e.st.Coupon(e.ctx, mine.ID)
	if got.Status != domain.CouponAvailable {
		t.Fatalf("a refused hold left %s %s", mine.ID, got.Status)
	}
	if cs, _ := e.w.Coupons(e.ctx, "C1"); statusOf(cs, old.ID, e.w.Now()) != domain.CouponExpired {
		t.Fatalf("expired coupon shows %s", statusOf(cs, old.ID, e.w.Now()))
	}
}

func statusOf(cs []domain.Coupon, id string, now time.Time) domain.CouponStatus {
	for _, c := range cs {
		if c.ID == id {
			return c.StatusAt(now)
		}
	}
	return ""
}

func TestHoldIsIdempotentAndSettledOnlyByPAYsWord(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{})
	c, _, _ := e.w.Grant(e.ctx, "g", tp.ID(), "C1")
	hold := ids.New()
	e.pay.set(hold, domain.HoldHeld)
	for range 2 {
		if _, err := e.w.Hold(e.ctx, hold, "C1", []string{c.ID}); err != nil {
			t.Fatalf("hold (again): %v", err)
		}
	}
	// A recheck while PAY still holds it changes nothing.
	if st, err := e.w.Recheck(e.ctx, hold); err != nil || st != domain.HoldHeld {
		t.Fatal(st, err)
	}
	if got, _ := e.st.Coupon(e.ctx, c.ID); got.Status != domain.CouponHeld {
		t.Fatalf("coupon %s after a HELD recheck", got.Status)
	}
	e.pay.set(hold, domain.HoldUsed)
	e.clk.Advance(3 * time.Minute)
	if n, err := e.w.CheckHolds(e.ctx); err != nil || n != 1 {
		t.Fatalf("check-back: %d %v", n, err)
	}
	if got, _ := e.st.Coupon(e.ctx, c.ID); got.Status != domain.CouponUsed {
		t.Fatalf("coupon %s after PAY said USED", got.Status)
	}
	e.pay.set(hold, domain.HoldReversed)
	for range 2 {
		if _, err := e.w.Recheck(e.ctx, hold); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.st.Coupon(e.ctx, c.ID); got.Status != domain.CouponAvailable || got.HoldID != "" {
		t.Fatalf("coupon %s hold %q after PAY reversed", got.Status, got.HoldID)
	}
	// A stale recheck of the old hold cannot free the coupon's next hold.
	next := ids.New()
	e.pay.set(next, domain.HoldHeld)
	if _, err := e.w.Hold(e.ctx, next, "C1", []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Recheck(e.ctx, hold); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.st.Coupon(e.ctx, c.ID); got.Status != domain.CouponHeld || got.HoldID != next {
		t.Fatalf("stale recheck moved the coupon: %s %s", got.Status, got.HoldID)
	}
}

func TestCheckUseJudgesThresholdAndSKUs(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{ValueFen: 1_000, ThresholdFen: 9_900, SKUs: []string{"SKU-A"}})
	c, _, _ := e.w.Grant(e.ctx, "g", tp.ID(), "C1")
	free, _, _ := e.w.Grant(e.ctx, "g2", tp.ID(), "C1")
	if _, err := e.w.Hold(e.ctx, ids.New(), "C1", []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		customer string
		id       string
		lines    []domain.Line
		want     error
	}{
		{"C1", c.ID, []domain.Line{{SKU: "SKU-A", Qty: 1, AmountFen: 9_900}}, nil},
		{"C1", c.ID, []domain.Line{{SKU: "SKU-A", Qty: 1, AmountFen: 5_000}, {SKU: "SKU-B", Qty: 1, AmountFen: 9_000}}, domain.ErrThresholdNotMet},
		{"C1", c.ID, []domain.Line{{SKU: "SKU-B", Qty: 1, AmountFen: 20_000}}, domain.ErrNotApplicable},
		{"C2", c.ID, []domain.Line{{SKU: "SKU-A", Qty: 1, AmountFen: 9_900}}, domain.ErrCouponNotFound},
		{"C1", free.ID, []domain.Line{{SKU: "SKU-A", Qty: 1, AmountFen: 9_900}}, domain.ErrCouponNotUsable},
	} {
		res, err := e.w.CheckUse(e.ctx, tc.customer, []string{tc.id}, tc.lines)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res[0].Err, tc.want) && !(tc.want == nil && res[0].Err == nil) {
			t.Errorf("case %d: %v, want %v", i, res[0].Err, tc.want)
		}
	}
}

func TestUnbind(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{})
	a, _, _ := e.w.Grant(e.ctx, "a", tp.ID(), "C1")
	b, _, _ := e.w.Grant(e.ctx, "b", tp.ID(), "C1")
	if _, err := e.w.Hold(e.ctx, ids.New(), "C1", []string{b.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Unbind(e.ctx, a.ID, "C1", "cs-7", ""); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("unbind without a reason: %v", err)
	}
	if _, err := e.w.Unbind(e.ctx, a.ID, "C2", "cs-7", "wrong user"); !errors.Is(err, domain.ErrCouponNotFound) {
		t.Fatalf("unbind naming another customer: %v", err)
	}
	if _, err := e.w.Unbind(e.ctx, b.ID, "C1", "cs-7", "asked"); !errors.Is(err, domain.ErrCouponNotUsable) {
		t.Fatalf("unbound a held coupon: %v", err)
	}
	for range 2 {
		got, err := e.w.Unbind(e.ctx, a.ID, "C1", "cs-7", "customer asked")
		if err != nil || got.Status != domain.CouponUnbound {
			t.Fatalf("unbind: %v %s", err, got.Status)
		}
	}
	if _, err := e.w.Hold(e.ctx, ids.New(), "C1", []string{a.ID}); !errors.Is(err, domain.ErrCouponNotUsable) {
		t.Fatalf("held an unbound coupon: %v", err)
	}
}

// fakeCatalog answers categories from a map, counting the reads.
type fakeCatalog struct {
	mu    sync.Mutex
	cats  map[string]string
	reads int
	err   error
}

func (f *fakeCatalog) Categories(_ context.Context, skus []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]string{}
	for _, s := range skus {
		if c, ok := f.cats[s]; ok {
			out[s] = c
		}
	}
	return out, nil
}

// A template's categories are stored with it (sorted, once each), come
// with every coupon bound from it, are checked against the catalog's list
// with the failing entry named, and are rules a bound coupon keeps.
func TestTemplateCategories(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	tp := e.template(t, domain.TemplateSpec{Categories: []string{"FRUIT", "DAIRY", " FRUIT"}, SKUs: []string{"SKU-9"}})
	if got, _ := e.w.Template(e.ctx, tp.ID()); strings.Join(got.Spec().Categories, ",") != "DAIRY,FRUIT" {
		t.Fatalf("stored categories %v", got.Spec().Categories)
	}
	c, _, err := e.w.Grant(e.ctx, "g", tp.ID(), "C1")
	if err != nil || strings.Join(c.Rules.Categories, ",") != "DAIRY,FRUIT" || strings.Join(c.Rules.SKUs, ",") != "SKU-9" {
		t.Fatalf("bound coupon's rules %+v, %v", c.Rules, err)
	}

	before, _ := e.w.Templates(e.ctx, "", 100)
	bad := domain.TemplateSpec{Title: "x", ValueFen: 500, ValidFrom: w0, ValidTo: w0.Add(time.Hour), Categories: []string{"FRUIT", "TOYS"}}
	_, err = e.w.CreateTemplate(e.ctx, "", bad)
	var fe *domain.FieldError
	if !errors.As(err, &fe) || fe.Field != "categories[1]" || fe.Reason != domain.ReasonUnknownCategory || !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("unknown category: %v", err)
	}
	if after, _ := e.w.Templates(e.ctx, "", 100); len(after) != len(before) {
		t.Fatalf("a template with an unknown category was stored")
	}

	// Bound: the categories are rules and stay; unbound: they may change.
	spec := tp.Spec()
	spec.Categories = []string{"FRUIT"}
	if _, err := e.w.UpdateTemplate(e.ctx, tp.ID(), spec); !errors.Is(err, domain.ErrTemplateInUse) {
		t.Fatalf("categories narrowed under a bound coupon: %v", err)
	}
	spec.Categories = []string{"DAIRY", "FRUIT", "MEAT"}
	if _, err := e.w.UpdateTemplate(e.ctx, tp.ID(), spec); !errors.Is(err, domain.ErrTemplateInUse) {
		t.Fatalf("categories widened under a bound coupon: %v", err)
	}
	spec.Categories, spec.Title = []string{"FRUIT", "DAIRY"}, "renamed" // the same set, listed otherwise
	if _, err := e.w.UpdateTemplate(e.ctx, tp.ID(), spec); err != nil {
		t.Fatalf("rename keeping the categories: %v", err)
	}
	unbound := e.template(t, domain.TemplateSpec{Categories: []string{"MEAT"}})
	spec = unbound.Spec()
	spec.Categories = []string{"SEAFOOD"}
	if got, err := e.w.UpdateTemplate(e.ctx, unbound.ID(), spec); err != nil || strings.Join(got.Spec().Categories, ",") != "SEAFOOD" {
		t.Fatalf("categories of an unbound template: %v", err)
	}
	if got, _ := e.w.Template(e.ctx, unbound.ID()); strings.Join(got.Spec().Categories, ",") != "SEAFOOD" {
		t.Fatalf("stored after update: %v", got.Spec().Categories)
	}
}

// A coupon naming categories applies to the order's goods of those
// categories, as inventory's catalog says (the wallet asks it, only when
// such a coupon is judged), and its threshold counts those goods only.
func TestCheckUseJudgesCategoriesByTheCatalog(t *testing.T) {
	t.Parallel()
	e := newWallet(t)
	cat := &fakeCatalog{cats: map[string]string{"APPLE": "FRUIT", "PEAR": "FRUIT", "PORK": "MEAT", "MILK": "DAIRY"}}
	e.w.Catalog = cat
	fruit := e.template(t, domain.TemplateSpec{ValueFen: 1_000, ThresholdFen: 9_900, Categories: []string{"FRUIT"}})
	mixed := e.template(t, domain.TemplateSpec{ValueFen: 1_000, ThresholdFen: 9_900, SKUs: []string{"PORK"}, Categories: []string{"DAIRY"}})
	plain := e.template(t, domain.TemplateSpec{ValueFen: 500})
	held := func(tp domain.Template, key string) string {
		t.Helper()
		c, _, err := e.w.Grant(e.ctx, key, tp.ID(), "C1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.w.Hold(e.ctx, ids.New(), "C1", []string{c.ID}); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	f, m, p := held(fruit, "f"), held(mixed, "m"), held(plain, "p")

	// A coupon naming no category does not make the wallet ask.
	if res, err := e.w.CheckUse(e.ctx, "C1", []string{p}, []domain.Line{{SKU: "PORK", Qty: 1, AmountFen: 100}}); err != nil || res[0].Err != nil || cat.reads != 0 {
		t.Fatalf("plain coupon: %+v, %v, %d catalog reads", res, err, cat.reads)
	}
	line := func(sku string, fen int64) domain.Line {
		return domain.Line{SKU: sku, Qty: 1, AmountFen: money.Fen(fen)}
	}
	for i, tc := range []struct {
		id    string
		lines []domain.Line
		want  error
	}{
		{f, []domain.Line{line("APPLE", 5_000), line("PEAR", 4_900), line("PORK", 1)}, nil},
		// 20,000 fen of goods, 5,000 of them fruit: the threshold is not met.
		{f, []domain.Line{line("APPLE", 5_000), line("PORK", 15_000)}, domain.ErrThresholdNotMet},
		{f, []domain.Line{line("PORK", 20_000), line("MILK", 20_000)}, domain.ErrNotApplicable},
		// A SKU the catalog does not know has no category.
		{f, []domain.Line{line("GHOST", 20_000)}, domain.ErrNotApplicable},
		// SKUs or categories: pork by SKU plus milk by category reach it.
		{m, []domain.Line{line("PORK", 5_000), line("MILK", 4_900), line("APPLE", 50_000)}, nil},
		{m, []domain.Line{line("PORK", 5_000), line("APPLE", 50_000)}, domain.ErrThresholdNotMet},
		{m, []domain.Line{line("APPLE", 50_000)}, domain.ErrNotApplicable},
	} {
		res, err := e.w.CheckUse(e.ctx, "C1", []string{tc.id}, tc.lines)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res[0].Err, tc.want) && !(tc.want == nil && res[0].Err == nil) {
			t.Errorf("case %d: %v, want %v", i, res[0].Err, tc.want)
		}
	}
	// Two category coupons on one order: one catalog read.
	reads := cat.reads
	res, err := e.w.CheckUse(e.ctx, "C1", []string{f, m, p}, []domain.Line{line("APPLE", 9_900), line("MILK", 9_900)})
	if err != nil || res[0].Err != nil || res[1].Err != nil || res[2].Err != nil || cat.reads != reads+1 {
		t.Fatalf("three coupons: %+v, %v, %d catalog reads", res, err, cat.reads-reads)
	}
	// The catalog unreachable: no answer rather than a wrong one.
	cat.err = errors.New("inventory down")
	if _, err := e.w.CheckUse(e.ctx, "C1", []string{f}, []domain.Line{line("APPLE", 9_900)}); err == nil {
		t.Fatal("judged a category coupon without the catalog")
	}
}
