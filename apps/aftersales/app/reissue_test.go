package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/harvest/harvest/apps/aftersales/domain"
)

// Repeated reissues of an order's units are checked against what its
// earlier reissues took, not only against what it ordered: A (3 ordered)
// reissued 2 leaves 1; a reissue of 2 more is ALREADY_REISSUED with
// nothing written; a rejected reissue gives its units back; two reissues
// of the last unit at once make one. A line not on the order or more than
// it ordered keep their own codes.
func TestReissuesCountWhatWasReissuedBefore(t *testing.T) {
	f := setupForward(t)
	ctx := context.Background()
	f.deliveredWithPrices("O1", "C1")
	a := func(n int64) domain.ReturnLine { return domain.ReturnLine{SKU: "A", Qty: n} }
	first, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindReissue, fwdIn("O1", "r1", a(2)))
	if err != nil {
		t.Fatal(err)
	}
	requests := func() int { return f.count(t, `SELECT COUNT(*) FROM requests`) }
	for _, c := range []struct {
		name string
		in   domain.ForwardInput
		want error
	}{
		{"the same units again", fwdIn("O1", "r2", a(2)), domain.ErrAlreadyReissued},
		{"more than ordered", fwdIn("O1", "r2", a(4)), domain.ErrQtyAboveDelivered},
		{"a line not on the order", fwdIn("O1", "r2", domain.ReturnLine{SKU: "Z", Qty: 1}), domain.ErrLineNotOnOrder},
	} {
		if _, err := f.svc.CreateForwardDocument(ctx, "agent-cal", domain.KindReissue, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if n := requests(); n != 1 {
		t.Fatalf("refused reissues wrote requests: %d", n)
	}
	// The first reissue's key replays it, whatever was reissued since.
	if again, err := f.svc.CreateForwardDocument(ctx, "agent-amy", domain.KindReissue, fwdIn("O1", "r1", a(2))); err != nil || again.ID() != first.ID() {
		t.Fatalf("replay: %v %v", again, err)
	}
	// Rejected, the first gives its units back: 3 may go again.
	if _, err := f.svc.Audit(ctx, first.ID(), "sup-bob", false, "the goods arrived after all"); err != nil {
		t.Fatal(err)
	}
	second, err := f.svc.CreateForwardDocument(ctx, "agent-cal", domain.KindReissue, fwdIn("O1", "r3", a(2), domain.ReturnLine{SKU: "B", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	// The last unit of A, asked for twice at once: one reissue.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, key := range []string{"r4", "r5"} {
		wg.Go(func() {
			_, errs[i] = f.svc.CreateForwardDocument(ctx, "agent-dan", domain.KindReissue, fwdIn("O1", key, a(1)))
		})
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), domain.ErrAlreadyReissued) {
		t.Fatalf("two reissues of the last unit at once: %v", errs)
	}
	if _, err := f.svc.CreateForwardDocument(ctx, "agent-dan", domain.KindReissue, fwdIn("O1", "r6", domain.ReturnLine{SKU: "B", Qty: 1})); !errors.Is(err, domain.ErrAlreadyReissued) {
		t.Fatalf("B reissued by %s already: %v", second.ID(), err)
	}
}
