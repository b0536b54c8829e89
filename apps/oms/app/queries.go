package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/platform/money"
)

// GetOrder returns an order with its timeline.
func (s *Service) GetOrder(ctx context.Context, id string) (*domain.Order, error) {
	return s.repo.Get(ctx, id)
}

// GetOrders returns the orders of ids with their timelines; ids that name
// no order are left out. The API bounds how many ids one call may ask for.
func (s *Service) GetOrders(ctx context.Context, ids []string) ([]*domain.Order, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.repo.GetMany(ctx, ids)
}

// ListOrders pages through a customer's orders, or those delivered to a
// phone (exactly one of the two), newest first.
func (s *Service) ListOrders(ctx context.Context, q ListQuery) (Page, error) {
	q.Phone = strings.TrimSpace(q.Phone)
	switch {
	case q.CustomerID == "" && q.Phone == "":
		return Page{}, invalid("customer", "REQUIRED", "customer or phone is required")
	case q.CustomerID != "" && q.Phone != "":
		return Page{}, invalid("phone", "EXCLUSIVE", "customer and phone cannot be combined")
	case len(q.Phone) > 32:
		return Page{}, invalid("phone", "TOO_LONG", "phone longer than 32 characters")
	}
	switch {
	case q.First <= 0:
		q.First = 20
	case q.First > 100:
		q.First = 100
	}
	return s.repo.List(ctx, q)
}

// Payability is the answer to "may this order be paid now?".
type Payability struct {
	Payable    bool
	Reason     string
	PayBy      time.Time
	CashDue    money.Fen
	CustomerID string
}

// Payable judges by the clock at this moment (DOMAIN 1.4 case 2): an order
// past its deadline is not payable even when its expiry has not run yet.
func (s *Service) Payable(ctx context.Context, id string) (Payability, error) {
	o, err := s.repo.Get(ctx, id)
	if err != nil {
		return Payability{}, err
	}
	ok, reason := o.Payability(s.clock.Now())
	return Payability{Payable: ok, Reason: reason, PayBy: o.PayBy(), CashDue: o.CashDue(), CustomerID: o.CustomerID()}, nil
}

// Existence answers a check-back.
type Existence struct {
	Exists bool
	Status domain.Status
}

// Exists answers inventory's check-back: does an order with this id exist?
// A "no" is made permanent before it is given (Repository.VoidOrderID):
// inventory releases the stock on it, so a placement still in flight under
// this id must not commit afterwards. Only the check-back, past the
// reservation's TTL, may ask.
func (s *Service) Exists(ctx context.Context, id string) (Existence, error) {
	o, err := s.repo.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		if err := s.repo.VoidOrderID(ctx, id, s.clock.Now()); err != nil {
			return Existence{}, err
		}
		// Read again: an order committing while the mark waited for its
		// key won, and exists.
		o, err = s.repo.Get(ctx, id)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return Existence{}, nil
	}
	if err != nil {
		return Existence{}, err
	}
	return Existence{Exists: true, Status: o.Status()}, nil
}

// ExistsForDeduction answers PAY's check-back: does an order use this
// non-cash deduction? PAY reverses a HELD deduction no order took, so a
// "no" first claims the deduction for good (Repository.ClaimUnusedDeduction):
// a placement that read it as HELD then fails at its commit.
func (s *Service) ExistsForDeduction(ctx context.Context, deductionID string) (Existence, error) {
	orderID, err := s.repo.ClaimUnusedDeduction(ctx, deductionID)
	if err != nil || orderID == "" {
		return Existence{}, err
	}
	return s.Exists(ctx, orderID)
}
