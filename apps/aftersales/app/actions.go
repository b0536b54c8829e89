package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// Customer service's actions not tied to a document (DOMAIN 4).
//
// An action is written PENDING with its author's key before its owner is
// asked, and the owner is asked under the action's id, which it
// deduplicates by (marketing's unbind is a no-op on an unbound coupon,
// OMS writes the id into the order's timeline entry, the invoicing
// system keys invoices by id). So a crash between the owner's change and
// the DONE record loses nothing: a repeat of the key, or the sweep, asks
// again under the same id and records the same answer. The owner's "no"
// (a used coupon, a dispatched order) deletes the PENDING row: nothing
// changed anywhere, and the precise code goes back to the console. DONE
// is written with the aftersales.action.recorded event (the console's
// live feed) in one transaction, once.

// ActionStore is the action log, the malicious marks and the reviews
// (apps/aftersales/store).
type ActionStore interface {
	// BeginAction stores a PENDING action; the author's key used before
	// returns that action instead, created=false.
	BeginAction(ctx context.Context, a *domain.Action) (out *domain.Action, created bool, err error)
	// FinishAction marks a PENDING action DONE with ev (and, for
	// MARK_MALICIOUS, the order's mark) in one transaction; an action
	// DONE already is returned as it is, with no second event.
	FinishAction(ctx context.Context, a *domain.Action, ev outbox.Event) (*domain.Action, error)
	// DropAction deletes a PENDING action its owner refused.
	DropAction(ctx context.Context, id string) error
	GetAction(ctx context.Context, id string) (*domain.Action, error)
	Actions(ctx context.Context, q ActionQuery) ([]*domain.Action, error)
	PendingActions(ctx context.Context, before time.Time, limit int) ([]*domain.Action, error)
	// Malicious returns the order's mark, if any.
	Malicious(ctx context.Context, orderID string) (*MaliciousMark, error)
	// CreateReview stores r; an existing review of the order is returned
	// with created=false.
	CreateReview(ctx context.Context, r domain.Review) (domain.Review, bool, error)
	Reviews(ctx context.Context, q ReviewQuery) ([]domain.Review, error)
}

// ActionQuery selects log entries, newest first: an order's, or a
// customer's (exactly one).
type ActionQuery struct {
	OrderID, CustomerID string
	Limit               int
}

// MaliciousMark is customer service's mark on an order.
type MaliciousMark struct {
	OrderID, ActionID, By, Reason string
	At                            time.Time
}

// Contacts is OMS's contact changes (*omsclient.Client).
type Contacts interface {
	ChangeContact(ctx context.Context, orderID string, r omsclient.ContactChangeRequest) (omsclient.ContactChange, error)
}

// Invoicing is the invoicing system behind partners (*partnersclient.Client).
type Invoicing interface {
	IssueInvoice(ctx context.Context, i partnersclient.InvoiceRequest) (partnersclient.Receipt, error)
}

// Codes of refusals after-sales decides itself.
const (
	// RefusedNoInvoiceTitle: neither the order nor the action names an
	// invoice title.
	RefusedNoInvoiceTitle = "NO_INVOICE_TITLE"
	// RefusedNotInvoiceable: the order is not paid (or was cancelled).
	RefusedNotInvoiceable = "ORDER_NOT_INVOICEABLE"
	// RefusedNothingToRetry: RETRY_REFUND found no failed refund of the
	// order whose trade is still short (PAY answers the same code when it
	// refuses one).
	RefusedNothingToRetry = "NOTHING_TO_RETRY"
)

// Act runs one action of customer service: validated, stored PENDING
// under the author's key, carried out by its owner under the action's id,
// recorded DONE. Same key and input: the first action again (carried on
// if it is still PENDING); same key, other input: ErrKeyReused.
func (s *Service) Act(ctx context.Context, in domain.ActionInput) (*domain.Action, error) {
	a, err := domain.NewAction(ids.New(), in, s.now())
	if err != nil {
		return nil, err
	}
	got, created, err := s.d.Actions.BeginAction(ctx, a)
	if err != nil {
		return nil, err
	}
	if !created {
		if got.Hash != a.Hash {
			return nil, fmt.Errorf("%w: key %q", domain.ErrKeyReused, in.IdempotencyKey)
		}
		if got.Status == domain.ActionDone {
			return got, nil
		}
	}
	return s.carryOut(ctx, got)
}

// carryOut asks a PENDING action's owner and records the answer.
func (s *Service) carryOut(ctx context.Context, a *domain.Action) (*domain.Action, error) {
	result, err := s.execute(ctx, a)
	var ref *domain.Refusal
	if errors.As(err, &ref) {
		if derr := s.d.Actions.DropAction(ctx, a.ID); derr != nil {
			return nil, errors.Join(err, derr)
		}
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("action %s stays pending: %w", a.ID, err)
	}
	a.Done(result, s.now())
	out, err := s.d.Actions.FinishAction(ctx, a, actionEvent(a))
	if err != nil {
		return nil, err
	}
	s.d.Notify()
	return out, nil
}

func actionEvent(a *domain.Action) outbox.Event {
	return outbox.Event{Topic: events.TopicActionRecorded, AggregateID: a.ID, Type: events.TypeActionRecorded,
		Payload: events.ActionRecorded{ActionID: a.ID, Kind: string(a.Input.Kind), OrderID: a.Input.OrderID, CustomerID: a.CustomerID,
			By: a.Input.Actor, Reason: a.Input.Reason, Result: a.Result, At: a.DoneAt}}
}

// execute asks the action's owner; a *domain.Refusal is its "no".
func (s *Service) execute(ctx context.Context, a *domain.Action) (string, error) {
	in := a.Input
	switch in.Kind {
	case domain.ActionUnbindCoupon:
		c, err := s.d.Coupons.UnbindCoupon(ctx, in.CouponID, marketingclient.UnbindRequest{CustomerID: in.CustomerID, Agent: in.Actor,
			Reason: in.Reason + " (action " + a.ID + ")"})
		if err != nil {
			return "", refusal(err)
		}
		return "coupon " + c.ID + " " + c.Status, nil
	case domain.ActionChangeAddress, domain.ActionSetSMSRecipients:
		req := omsclient.ContactChangeRequest{ChangeID: a.ID, By: in.ActorRole + ":" + in.Actor, Note: in.Reason, SMSRecipients: in.SMSRecipients}
		if in.Address != nil {
			addr := omsclient.Address(*in.Address)
			req.Address = &addr
		}
		ch, err := s.d.Contacts.ChangeContact(ctx, in.OrderID, req)
		if err != nil {
			return "", refusal(err)
		}
		if a.CustomerID == "" {
			a.CustomerID = ch.Order.CustomerID
		}
		if in.Kind == domain.ActionChangeAddress {
			return fmt.Sprintf("address changed; %d fulfillment units took it", ch.Units), nil
		}
		return fmt.Sprintf("SMS to %s; %d fulfillment units took it", strings.Join(ch.Order.SMSRecipients, ", "), ch.Units), nil
	case domain.ActionReissueInvoice:
		return s.reissueInvoice(ctx, a)
	case domain.ActionRetryRefund:
		return s.retryRefund(ctx, a)
	case domain.ActionMarkMalicious:
		o, err := s.d.Orders.GetOrder(ctx, in.OrderID)
		if err != nil {
			return "", refusal(err)
		}
		a.CustomerID = o.CustomerID
		return "order marked malicious: the customer's returns of it are refused", nil
	}
	return "", fmt.Errorf("%w: unknown action kind %q", domain.ErrValidation, in.Kind)
}

// reissueInvoice issues a new invoice of the order (its allocated lines:
// what the customer paid for each) under the action's id, with the
// action's title or the order's.
func (s *Service) reissueInvoice(ctx context.Context, a *domain.Action) (string, error) {
	in := a.Input
	o, err := s.d.Orders.GetOrder(ctx, in.OrderID)
	if err != nil {
		return "", refusal(err)
	}
	a.CustomerID = o.CustomerID
	switch o.Status {
	case omsclient.StatusPendingPayment, omsclient.StatusCancelled:
		return "", &domain.Refusal{Code: RefusedNotInvoiceable, Message: "order " + o.ID + " is " + o.Status + ": nothing was paid to invoice"}
	}
	title := strings.TrimSpace(in.InvoiceTitle)
	if title == "" {
		title = o.InvoiceTitle
	}
	if title == "" {
		return "", &domain.Refusal{Code: RefusedNoInvoiceTitle, Message: "order " + o.ID + " asked for no invoice; give invoice_title"}
	}
	al, err := s.d.Orders.GetAllocation(ctx, in.OrderID)
	if err != nil {
		return "", refusal(err)
	}
	// Each line carries its output VAT rate from the catalog, as stage 4
	// filled it for the first invoice: without it the invoicing system
	// records the reissued invoice's tax as 0.
	cat, err := s.catalog(ctx, al)
	if err != nil {
		return "", err
	}
	req := partnersclient.InvoiceRequest{InvoiceID: a.ID, OrderID: o.ID, Title: title}
	for _, l := range al.Lines {
		if paid := l.CashFen + l.NonCashFen; paid > 0 { // gifts are not invoiced
			req.Lines = append(req.Lines, partnersclient.InvoiceLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, AmountFen: paid,
				TaxRateBP: cat[l.SKU].TaxRateBP})
		}
	}
	if len(req.Lines) == 0 {
		return "", &domain.Refusal{Code: RefusedNotInvoiceable, Message: "order " + o.ID + " has no paid line"}
	}
	r, err := s.d.Invoicing.IssueInvoice(ctx, req)
	if err != nil {
		return "", refusal(err)
	}
	return "invoice " + r.ID + " titled " + title, nil
}

// retryRefund asks PAY to send again, for every trade that paid the
// order and is short of what it took, the refund the channel failed
// last, under the action's id and the trade (so a repeat of the action
// is the same retry). A trade with a refund still under way (PAY's own
// retry waiting out its backoff) is left to it. PAY refuses a refund that
// needs finance's audit or a trade with nothing left
// (NOTHING_TO_RETRY), which is the answer when no trade could be retried.
func (s *Service) retryRefund(ctx context.Context, a *domain.Action) (string, error) {
	o, err := s.d.Orders.GetOrder(ctx, a.Input.OrderID)
	if err != nil {
		return "", refusal(err)
	}
	a.CustomerID = o.CustomerID
	trades, err := s.d.Payments.TradesPaying(ctx, o.ID, o.TradeID)
	if err != nil {
		return "", fmt.Errorf("read trades of %s: %w", o.ID, err)
	}
	var done []string
	var refused error
	for _, t := range trades {
		fs, err := s.d.Payments.RefundsOfTrade(ctx, t.ID)
		if err != nil {
			return "", fmt.Errorf("read refunds of trade %s: %w", t.ID, err)
		}
		failed, ok := lastFailed(fs)
		if !ok {
			continue
		}
		f, err := s.d.Payments.RetryRefund(ctx, failed, payclient.RetryRefundRequest{IdempotencyKey: a.ID + ":" + t.ID})
		if err != nil {
			if refused = refusal(err); !isRefusal(refused) {
				return "", refused
			}
			continue
		}
		done = append(done, fmt.Sprintf("refund %s of %s retried as %s", failed, f.AmountFen, f.ID))
	}
	if len(done) > 0 {
		return strings.Join(done, "; "), nil
	}
	if refused != nil {
		return "", refused
	}
	return "", &domain.Refusal{Code: RefusedNothingToRetry, Message: "order " + o.ID + " has no failed refund to retry"}
}

// lastFailed is the last refund of a trade when it failed and nothing
// after it is under way or succeeded (the money still short).
func lastFailed(fs []payclient.Refund) (string, bool) {
	last := ""
	for _, f := range fs {
		switch f.Status {
		case payclient.RefundFailed:
			last = f.ID
		case payclient.RefundRejected:
		default:
			return "", false // under way, or given back already
		}
	}
	return last, last != ""
}

func isRefusal(err error) bool {
	var ref *domain.Refusal
	return errors.As(err, &ref)
}

// refusal turns an owner's 4xx answer into a *domain.Refusal with its
// code; anything else (unreachable, 5xx, throttled) stays an error and
// leaves the action PENDING, to be asked again.
func refusal(err error) error {
	var p *httpapi.Problem
	if errors.As(err, &p) && p.Status >= 400 && p.Status < 500 && p.Status != http.StatusTooManyRequests && p.Status != http.StatusRequestTimeout {
		return &domain.Refusal{Code: p.Code, Message: p.Message, Details: p.Details}
	}
	return err
}

// Actions lists log entries, newest first (at most 100).
func (s *Service) Actions(ctx context.Context, q ActionQuery) ([]*domain.Action, error) {
	if (q.OrderID == "") == (q.CustomerID == "") {
		return nil, fmt.Errorf("%w: give order or customer", domain.ErrValidation)
	}
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 100
	}
	return s.d.Actions.Actions(ctx, q)
}

// RunActionSweeper asks again, every interval, the owners of actions left
// PENDING for longer than idle (after-sales stopped between asking and
// recording, or the owner was unreachable and the author gave up).
func (s *Service) RunActionSweeper(every, idle time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			s.SweepActions(ctx, idle)
		}
	}
}

// SweepActions carries on the actions PENDING since before now-idle.
func (s *Service) SweepActions(ctx context.Context, idle time.Duration) int {
	as, err := s.d.Actions.PendingActions(ctx, s.now().Add(-idle), 100)
	if err != nil {
		s.d.Logger.Warn("list pending actions", "err", err)
		return 0
	}
	n := 0
	for _, a := range as {
		if _, err := s.carryOut(ctx, a); err != nil {
			s.d.Logger.Info("pending action not finished", "action", a.ID, "err", err)
			continue
		}
		n++
	}
	return n
}

// refuseMalicious refuses a customer's return of an order customer
// service marked malicious.
func (s *Service) refuseMalicious(ctx context.Context, orderID string) error {
	if s.d.Actions == nil {
		return nil
	}
	m, err := s.d.Actions.Malicious(ctx, orderID)
	if err != nil {
		return err
	}
	if m != nil {
		return fmt.Errorf("%w: order %s, by %s on %s: %s", domain.ErrMarkedMalicious, orderID, m.By, m.At.Format(time.RFC3339), m.Reason)
	}
	return nil
}

// Malicious returns the order's mark, or nil.
func (s *Service) Malicious(ctx context.Context, orderID string) (*MaliciousMark, error) {
	return s.d.Actions.Malicious(ctx, orderID)
}
