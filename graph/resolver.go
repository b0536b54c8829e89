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
	// Delivery slots and served areas.
	OpenSlots(ctx context.Context, a inventoryclient.Area, days int) ([]inventoryclient.SlotCapacity, error)
	SlotCapacities(ctx context.Context, warehouses []string, from string, days int) ([]inventoryclient.SlotCapacity, error)
	SetSlotCapacity(ctx context.Context, r inventoryclient.SetCapacityRequest) (inventoryclient.SlotCapacity, error)
	ServedAreas(ctx context.Context, province, city string) ([]inventoryclient.ServedArea, error)
	SetServedArea(ctx context.Context, r inventoryclient.SetServedAreaRequest) (inventoryclient.ServedArea, error)
	// Catalog administration.
	CreateProduct(ctx context.Context, r inventoryclient.CreateProductRequest) (inventoryclient.Product, error)
	UpdateProduct(ctx context.Context, sku string, r inventoryclient.UpdateProductRequest) (inventoryclient.Product, error)
	SchedulePrice(ctx context.Context, sku string, r inventoryclient.SchedulePriceRequest) (inventoryclient.Product, error)
	PriceHistory(ctx context.Context, sku string) ([]inventoryclient.ScheduledPrice, error)
	CatalogChanges(ctx context.Context, sku string) ([]inventoryclient.CatalogChange, error)
}

// Addresses is the customers' address books, kept by OMS;
// *omsclient.Client satisfies it.
type Addresses interface {
	Addresses(ctx context.Context, customerID string) (omsclient.AddressBook, error)
	AddAddress(ctx context.Context, customerID string, r omsclient.SaveAddressRequest) (omsclient.AddressBook, error)
	UpdateAddress(ctx context.Context, customerID, id string, r omsclient.SaveAddressRequest) (omsclient.AddressBook, error)
	RemoveAddress(ctx context.Context, customerID, id string) (omsclient.AddressBook, error)
	SetDefaultAddress(ctx context.Context, customerID, id string) (omsclient.AddressBook, error)
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
	_ Orders    = (*omsclient.Client)(nil)
	_ Addresses = (*omsclient.Client)(nil)
	_ Catalog   = (*inventoryclient.Client)(nil)
	_ Payments  = (*payclient.Client)(nil)
)

// Resolver is the root resolver: the services every field delegates to.
type Resolver struct {
	Orders    Orders
	Catalog   Catalog
	Payments  Payments
	Wallet    Wallet
	Campaigns Campaigns
	Claims    Claims
	Gifts     Gifts
	Feed      OrderFeed
	// Addresses is OMS's address books (usually the same client as Orders).
	Addresses Addresses
	// AfterSales is the reverse flow; CancelFilter guards order detail's
	// cancelRequest (nil: always ask AfterSales).
	AfterSales   AfterSales
	CancelFilter CancelFilter
	// Documents makes customer service's reissues, exchanges and pull-backs.
	Documents Documents
	// Channels is third-party orders: marketplace orders and sales plans.
	Channels Channels
	// Warehouse serves the warehouse console (WMS), Floor its live events.
	Warehouse Warehouse
	Floor     FloorFeed
	// AfterSalesFeed is the CS console's live after-sales events.
	AfterSalesFeed AfterSalesFeed
	// CSActions is customer service's action log, the reviews and an
	// order's story from after-sales (csactions.go).
	CSActions CSActions
}

// AfterSalesFeed hands out live after-sales events; *hub.AfterSales
// satisfies it. The channel must close when ctx ends.
type AfterSalesFeed interface {
	Subscribe(ctx context.Context, match func(*model.AfterSalesEvent) bool) <-chan *model.AfterSalesEvent
}

// FloorFeed hands out live warehouse-floor events; *hub.Floor satisfies
// it. The channel must close when ctx ends.
type FloorFeed interface {
	Subscribe(ctx context.Context, match func(*model.WarehouseEvent) bool) <-chan *model.WarehouseEvent
}
