package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/harvest/harvest/apps/aftersales/domain"
)

// A CS agent's return document waits for a supervisor's audit with its
// units held (a customer's return of the same units is refused); its
// author cannot approve it (nothing written); another supervisor's
// rejection gives the units back (the customer's return then goes
// through); an approved document runs its pushes like a customer's return.
func TestDocumentsAreAuditedBySomeoneElse(t *testing.T) {
	e := setup(t, nil)
	ctx := context.Background()
	e.delivered("O1", "C1")
	doc := ret("O1", "", "d1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1})
	d, err := e.svc.CreateDocument(ctx, "sup-ann", domain.KindReturn, doc)
	if err != nil || d.Status() != domain.StatusAwaitingAudit || d.CustomerID() != "C1" || d.CreatedBy() != "sup-ann" {
		t.Fatalf("document: %+v %v", d, err)
	}
	if again, err := e.svc.CreateDocument(ctx, "sup-ann", domain.KindReturn, doc); err != nil || again.ID() != d.ID() {
		t.Fatalf("replayed document: %v %v", again, err)
	}
	if _, err := e.svc.Return(ctx, ret("O1", "C1", "k1", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1})); !errors.Is(err, domain.ErrQtyAboveDelivered) {
		t.Fatalf("the held unit returned by the customer: %v", err)
	}
	if _, err := e.svc.Audit(ctx, d.ID(), "sup-ann", true, "fine"); !errors.Is(err, domain.ErrSelfAudit) {
		t.Fatalf("self-approval: %v", err)
	}
	if got, _ := e.svc.Request(ctx, "", d.ID()); got.Status() != domain.StatusAwaitingAudit || got.AuditedBy() != "" {
		t.Fatalf("after the refused self-approval: %s by %q", got.Status(), got.AuditedBy())
	}
	if n := e.count(t, `SELECT COUNT(*) FROM pushes WHERE request_id=?`, d.ID()); n != 0 {
		t.Fatalf("%d pushes before the audit", n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE topic='aftersales.document.submitted'`); n != 1 {
		t.Fatalf("%d submitted events", n)
	}
	list, err := e.svc.AwaitingAudit(ctx, 10)
	if err != nil || len(list) != 1 || list[0].ID() != d.ID() {
		t.Fatalf("awaiting audit: %v %v", list, err)
	}
	rejected, err := e.svc.Audit(ctx, d.ID(), "sup-bob", false, "no photo of the damage")
	if err != nil || rejected.Status() != domain.StatusRejected {
		t.Fatalf("rejection: %v %v", rejected, err)
	}
	if _, err := e.svc.Audit(ctx, d.ID(), "sup-bob", true, "changed my mind"); !errors.Is(err, domain.ErrNotAwaitingAudit) {
		t.Fatalf("second audit: %v", err)
	}
	r, err := e.svc.Return(ctx, ret("O1", "C1", "k2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "B", Qty: 1}))
	if err != nil {
		t.Fatalf("the unit given back by the rejection: %v", err)
	}
	if c, n, _ := e.st.Ledger(ctx, "O1"); c != int64(r.RefundCash()) || n != int64(r.RefundNonCash()) {
		t.Fatalf("ledger %d %d after the rejection and one return", c, n)
	}
	// Approved: it runs like a customer's return.
	d2, err := e.svc.CreateDocument(ctx, "agent-cy", domain.KindReturn, ret("O1", "", "d2", domain.ModeRefundOnly, domain.ReturnLine{SKU: "A", Qty: 1}))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := e.svc.Audit(ctx, d2.ID(), "sup-bob", true, "photos show mould")
	if err != nil || ok.Status() != domain.StatusAccepted || ok.AuditedBy() != "sup-bob" {
		t.Fatalf("approval: %v %v", ok, err)
	}
	ps := e.pushers(e.st)
	e.drain(t, ps, d2.ID())
	e.pay.approveAll()
	e.drain(t, ps, d2.ID())
	if got, _ := e.svc.Request(ctx, "", d2.ID()); got.Status() != domain.StatusRefunded ||
		!slicesEqual(steps(got), []domain.Step{domain.StepSubmitted, domain.StepApproved, domain.StepRefundRequested, domain.StepRefunded}) {
		t.Fatalf("approved document: %s %v", got.Status(), steps(got))
	}
}

func slicesEqual(a, b []domain.Step) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
