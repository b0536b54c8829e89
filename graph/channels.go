package graph

import (
	"context"
	"errors"
	"strconv"

	"github.com/harvest/harvest/apps/channels/channelsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// Channels is what the gateway needs of channels, third-party orders;
// *channelsclient.Client satisfies it.
type Channels interface {
	StagedOrders(ctx context.Context, platform, status string, first int) ([]channelsclient.StagedOrder, error)
	StagedOrder(ctx context.Context, id string) (channelsclient.StagedOrder, error)
	StagedByPlatform(ctx context.Context, platform, platformOrderID string) (channelsclient.StagedOrder, error)
	RetryStaged(ctx context.Context, id string, r channelsclient.RetryRequest) (channelsclient.StagedOrder, error)
	SetMapping(ctx context.Context, r channelsclient.MappingRequest) error
	CreatePlan(ctx context.Context, r channelsclient.CreatePlanRequest) (channelsclient.Plan, error)
	GetPlan(ctx context.Context, id string) (channelsclient.Plan, error)
	Plans(ctx context.Context, customerID string, first int) ([]channelsclient.Plan, error)
	RetryPlan(ctx context.Context, id string) (channelsclient.Plan, error)
	Statements(ctx context.Context, customerID string) ([]channelsclient.Statement, error)
}

var _ Channels = (*channelsclient.Client)(nil)

// channelsErrors turns channels' expected refusals into payload errors;
// anything else goes back for the presenter (INTERNAL).
func channelsErrors(err error, field []string) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return nil, err
	}
	code := map[string]model.UserErrorCode{
		channelsclient.CodeValidation:       model.UserErrorCodeValidationFailed,
		channelsclient.CodeNotFound:         model.UserErrorCodeNotFound,
		channelsclient.CodeNotRetryable:     model.UserErrorCodeInvalidState,
		channelsclient.CodeIdempotencyReuse: model.UserErrorCodeIdempotencyKeyReused,
	}[p.Code]
	if code == "" {
		return nil, err
	}
	if p.Code == channelsclient.CodeIdempotencyReuse {
		field = []string{"idempotencyKey"}
	}
	return []*model.UserError{{Code: code, Message: p.Message, Field: field}}, nil
}

// channelsNotFound reports channels' NOT_FOUND (a query answers null for it).
func channelsNotFound(err error) bool { return httpapi.HasCode(err, channelsclient.CodeNotFound) }

func toAddress(a channelsclient.Address) *model.Address {
	return &model.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
}

func toMarketplaceOrder(x channelsclient.StagedOrder) *model.MarketplaceOrder {
	out := &model.MarketplaceOrder{ID: x.ID, Platform: model.MarketplacePlatform(x.Platform), PlatformOrderID: x.PlatformOrderID, Way: x.Way,
		Status: model.MarketplaceOrderStatus(x.Status), ReasonCode: optional(x.ReasonCode), ReasonNote: optional(x.ReasonNote),
		PlanID: optional(x.PlanID), OrderID: optional(x.OrderID), ShopID: x.ShopID, Address: toAddress(x.Address),
		Slot: &model.DeliverySlot{Type: model.SlotType(x.Slot.Type), Date: x.Slot.Date}, TotalFen: int64(x.TotalFen),
		Lines: []*model.MarketplaceOrderLine{}, Steps: []*model.MarketplaceStep{}, StatusUpdates: []*model.PlatformStatusUpdate{},
		ReceivedAt: x.ReceivedAt, UpdatedAt: x.UpdatedAt}
	for _, l := range x.Lines {
		out.Lines = append(out.Lines, &model.MarketplaceOrderLine{PlatformSku: l.PlatformSKU, Qty: l.Qty, UnitPriceFen: int64(l.UnitPriceFen)})
	}
	for _, s := range x.Steps {
		out.Steps = append(out.Steps, &model.MarketplaceStep{Step: s.Step, Note: optional(s.Note), At: s.At})
	}
	for _, u := range x.StatusUpdates {
		out.StatusUpdates = append(out.StatusUpdates, &model.PlatformStatusUpdate{Status: u.Status, Attempts: int64(u.Attempts), SentAt: u.SentAt})
	}
	return out
}

func toSalesPlan(p channelsclient.Plan) *model.SalesPlan {
	out := &model.SalesPlan{ID: p.ID, CustomerID: p.CustomerID, Source: p.Source, MarketplaceOrderID: optional(p.ProcessID),
		Status: model.SalesPlanStatus(p.Status), ReasonCode: optional(p.ReasonCode), ReasonNote: optional(p.ReasonNote),
		Address: toAddress(p.Address), Slot: &model.DeliverySlot{Type: model.SlotType(p.Slot.Type), Date: p.Slot.Date},
		SettlementPeriod: model.SettlementPeriod(p.SettlementPeriod), AgreedFen: int64(p.AgreedFen), OrderID: optional(p.OrderID),
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt, Lines: []*model.SalesPlanLine{}}
	for _, l := range p.Lines {
		out.Lines = append(out.Lines, &model.SalesPlanLine{Sku: l.SKU, Qty: l.Qty, AgreedPriceFen: int64(l.AgreedPriceFen)})
	}
	return out
}

// listSize reads a list's first argument (1..max).
func listSize(first *int64, def, limit int) (int, error) {
	n := def
	if first != nil {
		n = int(*first)
	}
	if n < 1 || n > limit {
		return 0, &PublicError{Code: CodeBadUserInput, Message: "first must be 1-" + strconv.Itoa(limit), Extensions: map[string]any{"field": "first"}}
	}
	return n, nil
}
