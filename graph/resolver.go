// Package graph is Harvest's GraphQL backend-for-frontend: the gqlgen
// resolvers (follow-schema layout, one file per schema file in
// schema/graphql), the @hasRole directive, per-request dataloaders, the
// mapping of service Problems to typed user errors and stable error codes,
// and the HTTP/WebSocket handler with its guards (CSRF, complexity, depth,
// body size, list inputs, mutations per user per second, subscriptions per
// WebSocket and WebSockets per user). Resolvers are short: they check the caller, call a service
// client through the small interfaces below, and convert the answer.
package graph

import (
	"context"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/graph/model"
)

// Orders is what the gateway needs of OMS; *omsclient.Client satisfies it.
type Orders interface {
	PlaceOrder(ctx context.Context, r omsclient.PlaceOrderRequest) (omsclient.Order, error)
	GetOrders(ctx context.Context, ids []string) ([]omsclient.Order, error)
	ListOrders(ctx context.Context, r omsclient.ListRequest) (omsclient.OrderPage, error)
	CancelUnpaid(ctx context.Context, id string, r omsclient.CancelRequest) (omsclient.Order, error)
	// Fulfillment operations (ADMIN and CS).
	FulfillmentStages(ctx context.Context) ([]omsclient.StageCount, error)
	FulfillmentTimeline(ctx context.Context, orderID string) (omsclient.FulfillmentTimeline, error)
	RetryFulfillment(ctx context.Context, orderID string, r omsclient.RetryRequest) (omsclient.RetryResult, error)
	WarehouseCapacities(ctx context.Context, day string) ([]omsclient.WarehouseCapacity, error)
	SetWarehouseCapacity(ctx context.Context, r omsclient.WarehouseCapacity) (omsclient.WarehouseCapacity, error)
	FulfillmentSuspension(ctx context.Context) (omsclient.FulfillmentSuspension, error)
	SetFulfillmentSuspension(ctx context.Context, r omsclient.SuspensionRequest) (omsclient.FulfillmentSuspension, error)
}

// Catalog is what the gateway needs of inventory; *inventoryclient.Client
// satisfies it.
type Catalog interface {
	GetProducts(ctx context.Context, skus []string) ([]inventoryclient.Product, error)
	SearchProducts(ctx context.Context, r inventoryclient.SearchRequest) (inventoryclient.ProductPage, error)
}

// Payments is what the gateway needs of PAY; *payclient.Client satisfies it.
type Payments interface {
	Accounts(ctx context.Context, customerID string) (payclient.Accounts, error)
	Deduct(ctx context.Context, r payclient.DeductRequest) (payclient.Deduction, error)
	StartCashPayment(ctx context.Context, r payclient.StartPaymentRequest) (payclient.CashierRedirect, error)
}

// OrderFeed hands out live order updates; *hub.Hub satisfies it. The
// channel must close when ctx ends.
type OrderFeed interface {
	Subscribe(ctx context.Context, match func(*model.OrderUpdate) bool) <-chan *model.OrderUpdate
}

var (
	_ Orders   = (*omsclient.Client)(nil)
	_ Catalog  = (*inventoryclient.Client)(nil)
	_ Payments = (*payclient.Client)(nil)
)

// Resolver is the root resolver: the services every field delegates to.
type Resolver struct {
	Orders    Orders
	Catalog   Catalog
	Payments  Payments
	Wallet    Wallet
	Campaigns Campaigns
	Feed      OrderFeed
}
