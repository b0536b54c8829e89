package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/redislock"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Forward is OMS's forward flow as customer service's forward documents
// use it (*omsclient.Client): the accept-order API for reissues and
// exchanges, an order's fulfillment (where its delivery orders are), and
// the pull-back's new order made directly.
type Forward interface {
	PlaceOrder(ctx context.Context, r omsclient.PlaceOrderRequest) (omsclient.Order, error)
	FulfillmentTimeline(ctx context.Context, orderID string) (omsclient.FulfillmentTimeline, error)
	PullBackOrder(ctx context.Context, orderID string, r omsclient.PullBackRequest) (omsclient.PullBack, error)
}

// Shortages is WMS as a pull-back reads it (*wmsclient.Client): the work
// orders a delivery order was split into, with those waiting for stock.
type Shortages interface {
	OrderWorkOrders(ctx context.Context, warehouse, id string) ([]wmsclient.WorkOrder, error)
}

// Locks are distributed locks with a timeout (*redislock.Locker):
// Acquire answers redislock.ErrTimeout when the wait ran out, else a
// context bound to the lock's life and the release.
type Locks interface {
	Acquire(ctx context.Context, key string, wait time.Duration) (context.Context, func(), error)
}

// DefaultLockWait is how long a pull-back waits for its order's lock.
const DefaultLockWait = 3 * time.Second

// pullBackLock is the lock of an order's pull-back decisions.
func pullBackLock(orderID string) string { return "pull-back:" + orderID }

// lockPullBack takes orderID's pull-back lock for fn, or answers
// domain.ErrLockTimeout without calling it. Why a lock: a pull-back's
// decisions read rows of other systems and act on rows that do not exist
// yet (that no other open pull-back of the order exists; what WMS has
// split and made wait; the new order OMS is to make), and two replicas
// or an agent and the job deciding at once would both find "none" and
// both act (DOMAIN 8). Every decision about one order's pull-back, its
// creation and each step of its processing, runs under this lock, and
// fails rather than proceed without it.
func (s *Service) lockPullBack(ctx context.Context, orderID string, fn func(ctx context.Context) error) error {
	if s.d.Locks == nil {
		return errors.New("pull-backs need a lock (Deps.Locks)")
	}
	wait := s.d.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	lctx, release, err := s.d.Locks.Acquire(ctx, pullBackLock(orderID), wait)
	if errors.Is(err, redislock.ErrTimeout) {
		return fmt.Errorf("%w: order %s (waited %s)", domain.ErrLockTimeout, orderID, wait)
	}
	if err != nil {
		return err
	}
	defer release()
	return fn(lctx)
}

// CreateForwardDocument stores a reissue, exchange or pull-back document
// a CS agent (author) makes for an order of any customer, awaiting a
// supervisor other than the author; nothing runs before the approval.
// Refused with nothing written: a bad input (domain.ErrValidation), a
// missing order (ErrNotFound), a line not on the order or more units
// than it has (ErrLineNotOnOrder, ErrQtyAboveDelivered; an exchange
// counts earlier returns), a reissue of an order not shipped
// (ErrNotShipped) or of units reissued already (ErrAlreadyReissued), an
// exchange of one not delivered (ErrNotReturnable),
// a pull-back of an order without a work order waiting for stock
// (ErrNoShortage), or with an open pull-back (ErrPullBackOpen), or
// whose lock stayed held (ErrLockTimeout). The author's key replays
// the document; with other input: ErrKeyReused.
func (s *Service) CreateForwardDocument(ctx context.Context, author string, kind domain.Kind, in domain.ForwardInput) (*domain.Request, error) {
	in.CustomerID = "-" // the order's, read below; checked here for the rest of the input
	if err := in.Validate(kind); err != nil {
		return nil, err
	}
	al, err := s.allocation(ctx, in.OrderID, "")
	if err != nil {
		return nil, err
	}
	in.CustomerID = al.CustomerID
	in.IdempotencyKey = domain.DocumentKey(author, in.IdempotencyKey)
	if prev, ok, err := s.replayDocument(ctx, in, kind); err != nil || ok {
		return prev, err
	}
	switch kind {
	case domain.KindReissue:
		if al.Status != omsclient.StatusShipped && al.Status != omsclient.StatusCompleted {
			return nil, fmt.Errorf("%w: the order is %s; only shipped goods are reissued", domain.ErrNotShipped, al.Status)
		}
		return s.createReissue(ctx, author, in, al)
	case domain.KindExchange:
		return s.createExchange(ctx, author, in, al)
	}
	var out *domain.Request
	err = s.lockPullBack(ctx, in.OrderID, func(ctx context.Context) error {
		open, err := s.d.Repo.OpenPullBacks(ctx, in.OrderID)
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return fmt.Errorf("%w: %s is %s", domain.ErrPullBackOpen, open[0].ID(), open[0].Status())
		}
		if _, err := s.shortage(ctx, in.OrderID); err != nil {
			return err
		}
		out, err = s.storeForward(ctx, author, kind, in, nil)
		return err
	})
	return out, err
}

// replayDocument finds the document the author's key made before.
func (s *Service) replayDocument(ctx context.Context, in domain.ForwardInput, kind domain.Kind) (*domain.Request, bool, error) {
	rs, err := s.d.Repo.OfOrder(ctx, in.OrderID)
	if err != nil {
		return nil, false, err
	}
	for _, r := range rs {
		if r.CustomerID() == in.CustomerID && r.Key() == in.IdempotencyKey {
			return r, true, r.SameRequest(in.Hash(kind))
		}
	}
	return nil, false, nil
}

func (s *Service) storeForward(ctx context.Context, author string, kind domain.Kind, in domain.ForwardInput, lines []domain.LineRefund) (*domain.Request, error) {
	// The order's bits before the document is stored, as for any request:
	// order detail's afterSalesRequests never misses it.
	if err := s.d.Filter.Add(ctx, in.OrderID); err != nil {
		return nil, err
	}
	r, err := domain.NewForwardDocument(ids.New(), kind, author, in, lines, s.now())
	if err != nil {
		return nil, err
	}
	out, created, err := s.d.Repo.Create(ctx, r, documentEvent(events.TopicDocumentSubmitted, r, author))
	if err != nil {
		return nil, err
	}
	if !created {
		return out, out.SameRequest(in.Hash(kind))
	}
	s.d.Notify()
	return out, nil
}

// createReissue stores a reissue of units the order has left to reissue:
// decided under the order's lock against what its earlier reissues took
// (a second reissue of the same lost units is ErrAlreadyReissued; a
// rejected or refused one took none).
func (s *Service) createReissue(ctx context.Context, author string, in domain.ForwardInput, al omsclient.Allocation) (*domain.Request, error) {
	lines := orderLines(al)
	if err := domain.CheckReissue(lines, nil, in.Lines); err != nil {
		return nil, err
	}
	if err := s.d.Filter.Add(ctx, in.OrderID); err != nil {
		return nil, err
	}
	now, id := s.now(), ids.New()
	out, created, err := s.d.Repo.CreateReissue(ctx, now, in.OrderID, in.CustomerID, in.IdempotencyKey,
		func(reissued map[string]int64) (*domain.Request, error) {
			if err := domain.CheckReissue(lines, reissued, in.Lines); err != nil {
				return nil, err
			}
			units, err := domain.ComputeRefund(lines, nil, in.Lines)
			if err != nil {
				return nil, err
			}
			return domain.NewForwardDocument(id, domain.KindReissue, author, in, units, now)
		}, func(r *domain.Request) outbox.Event { return documentEvent(events.TopicDocumentSubmitted, r, author) })
	if err != nil {
		return nil, err
	}
	if !created {
		return out, out.SameRequest(in.Hash(domain.KindReissue))
	}
	s.d.Notify()
	return out, nil
}

// createExchange holds the exchanged units as a return does (counted
// returned under the order's lock, so no return or exchange takes them
// twice), with nothing to refund.
func (s *Service) createExchange(ctx context.Context, author string, in domain.ForwardInput, al omsclient.Allocation) (*domain.Request, error) {
	door, err := s.doorRefusal(ctx, al)
	if err != nil {
		return nil, err
	}
	check := func() error { return domain.CheckReturnable(al.CustomerID, al.CustomerID, al.Status, door) }
	if err := check(); err != nil {
		return nil, err
	}
	if _, err := domain.ComputeRefund(orderLines(al), nil, in.Lines); err != nil {
		return nil, err
	}
	if err := s.d.Filter.Add(ctx, in.OrderID); err != nil {
		return nil, err
	}
	now, id := s.now(), ids.New()
	out, created, err := s.d.Repo.CreateReturn(ctx, now, in.OrderID, in.CustomerID, in.IdempotencyKey, ReturnCaps{Cash: al.PaidFen, NonCash: al.NonCashFen},
		func(returned map[string]int64) (*domain.Request, error) {
			if err := check(); err != nil {
				return nil, err
			}
			lines, err := domain.ComputeRefund(orderLines(al), returned, in.Lines)
			if err != nil {
				return nil, err
			}
			return domain.NewForwardDocument(id, domain.KindExchange, author, in, lines, now)
		}, func(r *domain.Request) outbox.Event { return documentEvent(events.TopicDocumentSubmitted, r, author) })
	if err != nil {
		return nil, err
	}
	if !created {
		return out, out.SameRequest(in.Hash(domain.KindExchange))
	}
	s.d.Notify()
	return out, nil
}

// shortage names the order's work orders waiting for stock at their
// warehouses: ErrNoShortage when none (none at a warehouse yet, none
// split yet, or all allocated).
func (s *Service) shortage(ctx context.Context, orderID string) ([]string, error) {
	if s.d.Forward == nil || s.d.Shortages == nil {
		return nil, errors.New("pull-backs need OMS's fulfillment and WMS (Deps.Forward, Deps.Shortages)")
	}
	t, err := s.d.Forward.FulfillmentTimeline(ctx, orderID)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound), httpapi.HasCode(err, omsclient.CodeNoFulfillment):
		return nil, fmt.Errorf("%w: order %s is not in fulfillment", domain.ErrNoShortage, orderID)
	case err != nil:
		return nil, fmt.Errorf("read fulfillment of %s: %w", orderID, err)
	}
	var waiting, unsplit []string
	atWarehouse := 0
	for _, u := range t.Units {
		if u.ParentID == "" || u.Warehouse == "" || u.Supplier != "" {
			continue
		}
		wos, err := s.d.Shortages.OrderWorkOrders(ctx, u.Warehouse, u.ID)
		switch {
		case httpapi.HasCode(err, wmsclient.CodeNotFound):
			continue // not received by its warehouse
		case err != nil:
			return nil, fmt.Errorf("read work orders of %s: %w", u.ID, err)
		}
		atWarehouse++
		if len(wos) == 0 {
			unsplit = append(unsplit, u.ID)
		}
		for _, w := range wos {
			if w.Status == "WAITING_STOCK" {
				waiting = append(waiting, fmt.Sprintf("%s at %s waits for stock (%s)", w.ID, u.Warehouse, w.Reason))
			}
		}
	}
	if len(waiting) == 0 {
		why := fmt.Sprintf("%d delivery orders at a warehouse, none waiting for stock", atWarehouse)
		if len(unsplit) > 0 {
			why += "; not split yet: " + strings.Join(unsplit, ", ")
		}
		return nil, fmt.Errorf("%w: order %s: %s", domain.ErrNoShortage, orderID, why)
	}
	return waiting, nil
}
