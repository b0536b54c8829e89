package graph

import (
	"context"
	"errors"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/graph/model"
)

// Wallet is what the gateway needs of the coupon wallet (marketing);
// *marketingclient.Client satisfies it.
type Wallet interface {
	Coupons(ctx context.Context, customerID string) ([]marketingclient.Coupon, error)
	CreateTemplate(ctx context.Context, r marketingclient.CreateTemplateRequest) (marketingclient.Template, error)
	UpdateTemplate(ctx context.Context, id string, r marketingclient.TemplateSpec) (marketingclient.Template, error)
	RetireTemplate(ctx context.Context, id string) (marketingclient.Template, error)
	DeleteTemplate(ctx context.Context, id string) error
	Template(ctx context.Context, id string) (marketingclient.Template, error)
	Templates(ctx context.Context, before string, limit int) (marketingclient.TemplatePage, error)
	GrantCoupon(ctx context.Context, r marketingclient.GrantRequest) (marketingclient.Coupon, error)
}

var _ Wallet = (*marketingclient.Client)(nil)

func templateSpec(in model.CouponTemplateInput) marketingclient.TemplateSpec {
	return marketingclient.TemplateSpec{Title: in.Title, ValueFen: money.Fen(in.ValueFen), ThresholdFen: money.Fen(in.ThresholdFen),
		SKUs: in.Skus, Categories: categoriesIn(in.Categories), ValidFrom: in.ValidFrom, ValidTo: in.ValidTo}
}

func categoriesIn(cs []model.ProductCategory) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func categoriesOut(cs []string) []model.ProductCategory {
	out := make([]model.ProductCategory, len(cs))
	for i, c := range cs {
		out[i] = model.ProductCategory(c)
	}
	return out
}

func toTemplate(t marketingclient.Template) *model.CouponTemplate {
	return &model.CouponTemplate{ID: t.ID, Title: t.Title, ValueFen: int64(t.ValueFen), ValueFormatted: fmtFen(t.ValueFen),
		ThresholdFen: int64(t.ThresholdFen), Skus: nonNil(t.SKUs), Categories: categoriesOut(t.Categories), ValidFrom: t.ValidFrom, ValidTo: t.ValidTo,
		Status: model.CouponTemplateStatus(t.Status), Bound: t.Bound, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func toCoupon(c marketingclient.Coupon) *model.Coupon {
	return &model.Coupon{ID: c.ID, TemplateID: c.TemplateID, Title: c.Title, ValueFen: int64(c.ValueFen), ValueFormatted: fmtFen(c.ValueFen),
		ThresholdFen: int64(c.ThresholdFen), Skus: nonNil(c.SKUs), Categories: categoriesOut(c.Categories), Status: c.Status, ValidFrom: c.ValidFrom, ExpiresAt: c.ValidTo,
		Source: c.Source, BoundAt: c.BoundAt}
}

func templatePayload(t marketingclient.Template, err error) (*model.CouponTemplatePayload, error) {
	if err != nil {
		ues, err := walletErrors(err, []string{"input"})
		if err != nil {
			return nil, err
		}
		return &model.CouponTemplatePayload{Errors: ues}, nil
	}
	return &model.CouponTemplatePayload{Template: toTemplate(t), Errors: []*model.UserError{}}, nil
}

func couponPayload(c marketingclient.Coupon, err error, target []string) (*model.CouponPayload, error) {
	if err != nil {
		ues, err := walletErrors(err, target)
		if err != nil {
			return nil, err
		}
		return &model.CouponPayload{Errors: ues}, nil
	}
	return &model.CouponPayload{Coupon: toCoupon(c), Errors: []*model.UserError{}}, nil
}

// walletErrors turns the wallet's expected failures into user errors on
// field (the argument they are about); anything else goes to the presenter.
func walletErrors(err error, field []string) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return nil, err
	}
	one := func(code model.UserErrorCode, reason string) ([]*model.UserError, error) {
		ue := &model.UserError{Code: code, Message: p.Message, Field: field}
		if reason != "" {
			ue.Reason = &reason
		}
		return []*model.UserError{ue}, nil
	}
	switch p.Code {
	case marketingclient.CodeValidation:
		var f, reason string // the wallet names the field where it is one (categories[i])
		decodeDetail(p.Details, "field", &f)
		decodeDetail(p.Details, "reason", &reason)
		if f != "" {
			field = fieldPath(field, f)
		}
		return one(model.UserErrorCodeValidationFailed, reason)
	case marketingclient.CodeKeyReused:
		field = []string{"idempotencyKey"}
		return one(model.UserErrorCodeIdempotencyKeyReused, "")
	case marketingclient.CodeNotFound:
		return one(model.UserErrorCodeNotFound, "")
	case marketingclient.CodeTemplateInUse, marketingclient.CodeTemplateRetired, marketingclient.CodeTemplateEnded:
		return one(model.UserErrorCodeCouponTemplateConflict, p.Code)
	case marketingclient.CodeCouponNotFound, marketingclient.CodeCouponExpired, marketingclient.CodeCouponNotStarted,
		marketingclient.CodeCouponNotUsable:
		return one(model.UserErrorCodeCouponInvalid, p.Code)
	}
	return nil, err
}

func isNotFound(err error) bool {
	return httpapi.HasCode(err, marketingclient.CodeNotFound)
}
