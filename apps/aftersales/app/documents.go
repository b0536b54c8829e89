package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// CreateDocument stores a return or rejection document a CS agent
// (author) makes for an order of any customer (DOMAIN 4): checked and
// its refund computed as a customer's own return (the order delivered;
// a rejection: shipped or delivered, refused at the door by the
// customer's word), its units and refund held for it under the order's
// lock, nothing pushed until a supervisor other than the author approves
// it. The author's key replays the document.
func (s *Service) CreateDocument(ctx context.Context, author string, kind domain.Kind, in domain.ReturnInput) (*domain.Request, error) {
	al, err := s.allocation(ctx, in.OrderID, "")
	if err != nil {
		return nil, err
	}
	in.CustomerID = al.CustomerID
	key := in.IdempotencyKey
	in.IdempotencyKey = domain.DocumentKey(author, key)
	door, err := s.doorRefusal(ctx, al)
	if err != nil {
		return nil, err
	}
	check := func() error { return domain.CheckReturnable(al.CustomerID, al.CustomerID, al.Status, door) }
	if kind == domain.KindRejection {
		check = func() error {
			if al.Status != "SHIPPED" && al.Status != "COMPLETED" {
				return fmt.Errorf("%w: the order is %s; only shipped orders are refused at the door", domain.ErrNotReturnable, al.Status)
			}
			if al.Refused {
				return fmt.Errorf("%w: the refusal reached OMS; its rejection is made by itself", domain.ErrNotReturnable)
			}
			return nil
		}
	}
	if err := check(); err != nil {
		return nil, err
	}
	if _, err := domain.ComputeRefund(orderLines(al), nil, in.Lines); err != nil {
		return nil, err
	}
	if err := s.d.Filter.Add(ctx, in.OrderID); err != nil {
		return nil, err
	}
	now := s.now()
	id := ids.New()
	out, created, err := s.d.Repo.CreateReturn(ctx, now, in.OrderID, in.CustomerID, in.IdempotencyKey, ReturnCaps{Cash: al.PaidFen, NonCash: al.NonCashFen},
		func(returned map[string]int64) (*domain.Request, error) {
			if err := check(); err != nil {
				return nil, err
			}
			lines, err := domain.ComputeRefund(orderLines(al), returned, in.Lines)
			if err != nil {
				return nil, err
			}
			return domain.NewDocument(id, kind, author, in, lines, now)
		}, func(r *domain.Request) outbox.Event { return documentEvent(events.TopicDocumentSubmitted, r, author) })
	if err != nil {
		return nil, err
	}
	if !created {
		if err := out.SameRequest(domain.ReturnInput{OrderID: in.OrderID, CustomerID: in.CustomerID, IdempotencyKey: in.IdempotencyKey,
			Reason: in.Reason, Mode: in.Mode, Lines: in.Lines, Photos: in.Photos}.Hash()); err != nil {
			return nil, err
		}
		return out, nil
	}
	s.d.Notify()
	return out, nil
}

func documentEvent(topic string, r *domain.Request, by string) outbox.Event {
	return outbox.Event{Topic: topic, AggregateID: r.ID(), Type: topic + ".v1", Payload: events.Document{RequestID: r.ID(), OrderID: r.OrderID(),
		CustomerID: r.CustomerID(), Kind: string(r.Kind()), Status: string(r.Status()), By: by, At: r.UpdatedAt()}}
}

// Audit approves or rejects a document (a CS_SUPERVISOR's, checked by the
// gateway; never its author: domain.ErrSelfAudit, nothing written). An
// approved document starts as a customer's return would, its first pushes
// and accepted event in the audit's transaction; a rejected one gives its
// units and refund back to the order.
func (s *Service) Audit(ctx context.Context, id, auditor string, approve bool, note string) (*domain.Request, error) {
	r, err := s.d.Repo.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	al, err := s.allocation(ctx, r.OrderID(), "")
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog(ctx, al)
	if err != nil {
		return nil, err
	}
	out, err := s.d.Repo.UpdateEmitting(ctx, id, func(r *domain.Request) ([]outbox.Event, error) {
		now := s.now()
		if !approve {
			if err := r.RejectAudit(now, auditor, note); err != nil {
				return nil, err
			}
			return []outbox.Event{documentEvent(events.TopicDocumentAudited, r, auditor)}, nil
		}
		if err := r.Approve(now, auditor, note); err != nil {
			return nil, err
		}
		if err := s.approvedPushes(r, al, cat); err != nil {
			return nil, err
		}
		return []outbox.Event{documentEvent(events.TopicDocumentAudited, r, auditor), s.acceptedEvent(r)}, nil
	})
	if err != nil {
		return nil, err
	}
	s.d.Notify()
	s.wakePushers()
	return out, nil
}

// AwaitingAudit lists the documents waiting for a supervisor, oldest first.
func (s *Service) AwaitingAudit(ctx context.Context, limit int) ([]*domain.Request, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	return s.d.Repo.AwaitingAudit(ctx, limit)
}
