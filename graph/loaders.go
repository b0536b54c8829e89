package graph

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// loaders are the per-response dataloaders. They live for one response
// (one HTTP request, or one event of a subscription), so their cache never
// serves another caller's request, nor stock or an order older than the
// response. Every field that looks one thing up by id goes through them:
// N aliases of product(sku:) or order(id:) cost one batched call (per
// batch capacity), not N.
type loaders struct {
	products *dataloadgen.Loader[string, *model.Product]
	orders   *dataloadgen.Loader[string, *omsclient.Order]
}

type loadersKey struct{}

// productBatch bounds the SKUs of one inventory call (inventory takes up
// to 500).
const productBatch = 200

func newLoaders(r *Resolver, wait time.Duration) *loaders {
	return &loaders{
		products: dataloadgen.NewLoader(func(ctx context.Context, skus []string) ([]*model.Product, []error) {
			return fetchProducts(ctx, r.Catalog, skus)
		}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(productBatch)),
		orders: dataloadgen.NewLoader(func(ctx context.Context, ids []string) ([]*omsclient.Order, []error) {
			return fetchOrders(ctx, r.Orders, ids)
		}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(omsclient.MaxBatchOrders)),
	}
}

// fetchOrders asks OMS for a batch of orders in one call; an id that names
// no order answers nil.
func fetchOrders(ctx context.Context, o Orders, ids []string) ([]*omsclient.Order, []error) {
	found, err := o.GetOrders(ctx, ids)
	if err != nil {
		return nil, []error{err}
	}
	by := make(map[string]*omsclient.Order, len(found))
	for i := range found {
		by[found[i].ID] = &found[i]
	}
	out := make([]*omsclient.Order, len(ids))
	for i, id := range ids {
		out[i] = by[id]
	}
	return out, nil
}

// fetchProducts asks inventory for a batch of SKUs in one call. Inventory
// fails a whole batch when one SKU is unknown (a delisted product on an old
// order), so the unknown ones are taken out and the rest asked for again;
// their lines show product: null.
func fetchProducts(ctx context.Context, c Catalog, skus []string) ([]*model.Product, []error) {
	ps, err := c.GetProducts(ctx, skus)
	var p *httpapi.Problem
	if errors.As(err, &p) && p.Code == inventoryclient.CodeUnknownSKU {
		var unknown []string
		decodeDetail(p.Details, "skus", &unknown)
		rest := slices.DeleteFunc(slices.Clone(skus), func(s string) bool { return slices.Contains(unknown, s) })
		if len(rest) < len(skus) {
			ps, err = nil, nil
			if len(rest) > 0 {
				ps, err = c.GetProducts(ctx, rest)
			}
		}
	}
	if err != nil {
		return nil, []error{err}
	}
	by := make(map[string]*model.Product, len(ps))
	for _, p := range ps {
		by[p.SKU] = toProduct(p)
	}
	out := make([]*model.Product, len(skus))
	for i, s := range skus {
		out[i] = by[s]
	}
	return out, nil
}

func withLoaders(ctx context.Context, l *loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	return l
}

// product loads one product through the response's loader; nil when the
// SKU is unknown.
func (r *Resolver) product(ctx context.Context, sku string) (*model.Product, error) {
	if l := loadersFrom(ctx); l != nil {
		return l.products.Load(ctx, sku)
	}
	ps, errs := fetchProducts(ctx, r.Catalog, []string{sku})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return ps[0], nil
}

// order loads one order through the response's loader; nil when there is
// no such order.
func (r *Resolver) order(ctx context.Context, id string) (*omsclient.Order, error) {
	if l := loadersFrom(ctx); l != nil {
		return l.orders.Load(ctx, id)
	}
	os, errs := fetchOrders(ctx, r.Orders, []string{id})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return os[0], nil
}
