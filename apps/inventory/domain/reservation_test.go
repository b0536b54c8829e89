package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
)

func TestReservationTransitions(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)
	req, err := domain.NewRequest("o1", []domain.Line{{SKU: "B", Qty: 1}, {SKU: "A", Qty: 2}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	r := domain.NewReservation(req, []domain.Part{{SKU: "A", Qty: 2}, {SKU: "H", Qty: 1, Hot: true}}, nil, at)
	if r.Status() != domain.Held || !r.ExpiresAt().Equal(at.Truncate(time.Microsecond)) || !r.HasHot() {
		t.Fatalf("new reservation %+v", r)
	}
	if !r.Releasable(true) || r.Repeat(req.Fingerprint()) != nil || !errors.Is(r.Repeat("other"), domain.ErrConflict) {
		t.Fatal("a held reservation is releasable and repeats its own lines only")
	}
	confirmed := domain.RestoreReservation(domain.ReservationSnapshot{OrderID: "o1", Status: domain.Confirmed})
	if confirmed.Releasable(true) || !confirmed.Releasable(false) {
		t.Fatal("the check-back must not release a confirmed reservation; a cancel does")
	}
	r.Release()
	if r.Status() != domain.Released || !r.HotPending() || r.Releasable(false) {
		t.Fatalf("released %+v", r)
	}
	r.HotReturned()
	if r.HotPending() {
		t.Fatal("hot return still pending")
	}
	if !errors.Is(r.Repeat(req.Fingerprint()), domain.ErrReleased) || !errors.Is(r.Confirmable(), domain.ErrNotReserved) {
		t.Fatal("a released reservation is neither repeated nor confirmed")
	}
	if tb := domain.Tombstone("o2", at); tb.Status() != domain.Released || !tb.HotPending() {
		t.Fatalf("tombstone %+v", tb)
	}
}
