package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// CSActions is customer service's action log, the reviews and an order's
// story as after-sales tells it (PAY's payments and refunds among it);
// *aftersalesclient.Client satisfies it.
type CSActions interface {
	Act(ctx context.Context, r aftersalesclient.ActionRequest) (aftersalesclient.Action, error)
	ActionsOf(ctx context.Context, orderID, customerID string, first int) ([]aftersalesclient.Action, error)
	Review(ctx context.Context, r aftersalesclient.ReviewRequest) (aftersalesclient.Review, error)
	Reviews(ctx context.Context, orderID, customerID string, first int) ([]aftersalesclient.Review, error)
	Story(ctx context.Context, orderID string) (aftersalesclient.Story, error)
}

var _ CSActions = (*aftersalesclient.Client)(nil)

// maxActionReason is after-sales' bound on an action's reason.
const maxActionReason = 500

// checkActionInput answers what the gateway can tell without a round
// trip: the key and the reason.
func checkActionInput(key, reason string) []*model.UserError {
	out := checkKey(key)
	if n := utf8.RuneCountInString(strings.TrimSpace(reason)); n == 0 || n > maxActionReason {
		out = append(out, &model.UserError{Code: model.UserErrorCodeValidationFailed, Field: []string{"reason"},
			Message: fmt.Sprintf("reason must be 1-%d characters, got %d", maxActionReason, n)})
	}
	return out
}

// act runs one action for the caller and maps the answer.
func (r *Resolver) act(ctx context.Context, req aftersalesclient.ActionRequest, field []string) (*model.CsActionPayload, error) {
	if ues := checkActionInput(req.IdempotencyKey, req.Reason); ues != nil {
		return &model.CsActionPayload{Errors: ues}, nil
	}
	who, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	req.Actor, req.ActorRole = who.Subject, who.Role
	a, err := r.CSActions.Act(ctx, req)
	if err != nil {
		ues, err := actionUserErrors(err, field)
		if err != nil {
			return nil, err
		}
		return &model.CsActionPayload{Errors: ues}, nil
	}
	return &model.CsActionPayload{Action: toCsAction(a), Errors: []*model.UserError{}}, nil
}

// actionUserErrors maps after-sales' answers, the owners' codes among
// them, to user errors; field is the argument the owner's refusal is
// about.
func actionUserErrors(err error, field []string) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return nil, err
	}
	one := func(code model.UserErrorCode, f []string, reason string) ([]*model.UserError, error) {
		ue := &model.UserError{Code: code, Message: p.Message, Field: f}
		if reason != "" {
			ue.Reason = &reason
		}
		return []*model.UserError{ue}, nil
	}
	switch p.Code {
	case omsclient.CodeOrderDispatched:
		var dos []string
		decodeDetail(p.Details, "delivery_orders", &dos)
		return one(model.UserErrorCodeOrderDispatched, field, strings.Join(dos, ","))
	case omsclient.CodeAddressLocked:
		return one(model.UserErrorCodeAddressLocked, []string{"orderId"}, "")
	case omsclient.CodeContactLocked:
		return one(model.UserErrorCodeContactLocked, []string{"orderId"}, "")
	case aftersalesclient.CodeNoInvoiceTitle:
		return one(model.UserErrorCodeNoInvoiceTitle, []string{"title"}, "")
	case aftersalesclient.CodeNotInvoiceable:
		return one(model.UserErrorCodeOrderNotInvoiceable, []string{"orderId"}, "")
	case aftersalesclient.CodeNothingToRetry:
		return one(model.UserErrorCodeNothingToRetry, []string{"orderId"}, "")
	case aftersalesclient.CodeNotReviewable:
		return one(model.UserErrorCodeOrderNotReviewable, []string{"orderId"}, "")
	case aftersalesclient.CodeAlreadyReviewed:
		return one(model.UserErrorCodeAlreadyReviewed, []string{"orderId"}, "")
	case marketingclient.CodeCouponNotFound, marketingclient.CodeCouponNotUsable, marketingclient.CodeCouponExpired, marketingclient.CodeCouponNotStarted:
		return one(model.UserErrorCodeCouponInvalid, []string{"couponId"}, p.Code)
	case omsclient.CodeNotFound, aftersalesclient.CodeNotFound:
		return one(model.UserErrorCodeNotFound, []string{"orderId"}, "")
	case aftersalesclient.CodeIdempotencyReuse:
		return one(model.UserErrorCodeIdempotencyKeyReused, []string{"idempotencyKey"}, "")
	case aftersalesclient.CodeValidation:
		if _, ok := p.Details["violations"]; !ok {
			return one(model.UserErrorCodeValidationFailed, field, "")
		}
	}
	return userErrors(err, hints{input: field, target: field})
}

func toCsAction(a aftersalesclient.Action) *model.CsAction {
	out := &model.CsAction{ID: a.ID, Kind: model.CsActionKind(a.Kind), Status: a.Status, OrderID: optString(a.OrderID),
		CustomerID: optString(a.CustomerID), CouponID: optString(a.CouponID), By: a.Actor, ByRole: a.ActorRole, Reason: a.Reason,
		Result: optString(a.Result), SmsRecipients: append([]string{}, a.SMSRecipients...), InvoiceTitle: optString(a.InvoiceTitle),
		CreatedAt: a.CreatedAt, DoneAt: a.DoneAt}
	if a.Address != nil {
		out.Address = &model.Address{Name: a.Address.Name, Phone: a.Address.Phone, Province: a.Address.Province, City: a.Address.City,
			District: a.Address.District, Detail: a.Address.Detail}
	}
	return out
}

func toReview(rv aftersalesclient.Review) *model.Review {
	return &model.Review{OrderID: rv.OrderID, CustomerID: rv.CustomerID, Rating: int64(rv.Rating), Text: rv.Text, CreatedAt: rv.CreatedAt}
}

// storyMoney fills a story's payments, refunds, actions, review and mark
// from after-sales' story of the order.
func storyMoney(out *model.OrderStory, s aftersalesclient.Story) {
	for _, p := range s.Payments {
		out.Payments = append(out.Payments, &model.OrderPayment{ID: p.ID, Channel: p.Channel, AmountFen: int64(p.AmountFen), PaidFen: int64(p.PaidFen),
			RefundedFen: int64(p.RefundedFen), Status: p.Status, CreatedAt: p.CreatedAt, PaidAt: p.PaidAt})
	}
	for _, rf := range s.Refunds {
		out.Refunds = append(out.Refunds, &model.OrderRefund{ID: rf.ID, PaymentID: rf.TradeID, AmountFen: int64(rf.AmountFen),
			AmountFormatted: fmtFen(rf.AmountFen), Reason: rf.Reason, Status: rf.Status, CreatedAt: rf.CreatedAt, UpdatedAt: rf.UpdatedAt})
	}
	for _, a := range s.Actions {
		out.Actions = append(out.Actions, toCsAction(a))
	}
	if s.Review != nil {
		out.Review = toReview(*s.Review)
	}
	if m := s.Malicious; m != nil {
		out.Malicious = &model.MaliciousMark{ActionID: m.ActionID, By: m.By, Reason: m.Reason, At: m.At}
	}
}

// listFirst reads a list's first argument (1-100, default 20).
func listFirst(first *int64) (int, error) {
	n := 20
	if first != nil {
		n = int(*first)
	}
	if n < 1 || n > 100 {
		return 0, &PublicError{Code: CodeBadUserInput, Message: "first must be 1-100", Extensions: map[string]any{"field": "first"}}
	}
	return n, nil
}
