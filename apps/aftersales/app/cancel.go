package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// Cancel accepts a customer's cancel of a paid order (DOMAIN 5): the
// order must be theirs (another's answers ErrNotFound, as a missing one
// does), paid and not shipped. The order's bits are set in the cancel
// filter before the request is stored, so no gateway can say "no" for it
// once it is answered (a crash in between leaves a false "maybe" only).
// The request is stored with the event that starts the reverse flow.
// Same key and input: the same request; same key, other input:
// ErrKeyReused; a second cancel of the same order under another key: the
// first one.
func (s *Service) Cancel(ctx context.Context, in domain.CancelInput) (*domain.Request, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.GetOrder(ctx, in.OrderID)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound):
		return nil, fmt.Errorf("%w: order %s", domain.ErrNotFound, in.OrderID)
	case err != nil:
		return nil, fmt.Errorf("read order %s: %w", in.OrderID, err)
	}
	if o.CustomerID != in.CustomerID {
		return nil, fmt.Errorf("%w: order %s", domain.ErrNotFound, in.OrderID)
	}
	now := s.now()
	r, err := domain.NewCancel(ids.New(), in, now)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckOrder(in.CustomerID, o.CustomerID, o.Status); err != nil {
		// A replay of an accepted cancel finds the order moved on: answer
		// the request it made.
		if prev, ok := s.replay(ctx, r); ok {
			return prev, nil
		}
		return nil, err
	}
	if err := s.d.Filter.Add(ctx, in.OrderID); err != nil {
		return nil, err
	}
	// The answer to the requester (DOMAIN 5's push), written with the request.
	ans, err := domain.MakePush(pushID(r.ID(), domain.PushAnswer), domain.PushAnswer, r.OrderID(), r.ID(),
		answerPush{CustomerID: r.CustomerID(), Kind: string(r.Kind())})
	if err != nil {
		return nil, err
	}
	r.Push(ans)
	ev := outbox.Event{Topic: events.TopicRequestAccepted, AggregateID: r.ID(), Type: events.TypeRequestAccepted,
		Payload: events.RequestAccepted{RequestID: r.ID(), OrderID: r.OrderID(), CustomerID: r.CustomerID(), Kind: string(r.Kind()), At: now}}
	out, created, err := s.d.Repo.Create(ctx, r, ev)
	if err != nil {
		return nil, err
	}
	if created {
		s.d.Notify()
		s.wakePushers()
		return out, nil
	}
	if out.Key() == in.IdempotencyKey && out.CustomerID() == in.CustomerID {
		if err := out.SameRequest(in.Hash()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// replay finds the cancel r repeats (same customer and key, or the
// order's cancel).
func (s *Service) replay(ctx context.Context, r *domain.Request) (*domain.Request, bool) {
	rs, err := s.d.Repo.OfOrder(ctx, r.OrderID())
	if err != nil {
		return nil, false
	}
	for _, p := range rs {
		if p.Kind() == domain.KindCancel && p.CustomerID() == r.CustomerID() &&
			(p.Key() != r.Key() || p.SameRequest(r.RequestHash()) == nil) {
			return p, true
		}
	}
	return nil, false
}

// Request returns a customer's request (another's: ErrNotFound).
func (s *Service) Request(ctx context.Context, customerID, id string) (*domain.Request, error) {
	r, err := s.d.Repo.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if customerID != "" && r.CustomerID() != customerID {
		return nil, fmt.Errorf("%w: request %s", domain.ErrNotFound, id)
	}
	return r, nil
}

// OfCustomer lists a customer's requests, newest first.
func (s *Service) OfCustomer(ctx context.Context, customerID string, limit int) ([]*domain.Request, error) {
	if customerID == "" {
		return nil, fmt.Errorf("%w: customer is required", domain.ErrValidation)
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	return s.d.Repo.OfCustomer(ctx, customerID, limit)
}

// OfOrder lists an order's requests; customerID "" is staff (every
// customer's), else another customer's order lists none.
func (s *Service) OfOrder(ctx context.Context, customerID, orderID string) ([]*domain.Request, error) {
	rs, err := s.d.Repo.OfOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if customerID == "" {
		return rs, nil
	}
	out := rs[:0]
	for _, r := range rs {
		if r.CustomerID() == customerID {
			out = append(out, r)
		}
	}
	return out, nil
}

// Pushes lists a request's pushes in commit order.
func (s *Service) Pushes(ctx context.Context, requestID string) ([]domain.Push, error) {
	return s.d.Repo.PushesOf(ctx, requestID)
}
