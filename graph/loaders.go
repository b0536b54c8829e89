package graph

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// loaders are the per-operation dataloaders. They live for one operation
// (one HTTP request, or one subscription), so their cache never serves
// another caller's request or stock figures older than the operation.
type loaders struct {
	products *dataloadgen.Loader[string, *model.Product]
}

type loadersKey struct{}

func newLoaders(c Catalog, wait time.Duration) *loaders {
	return &loaders{
		products: dataloadgen.NewLoader(func(ctx context.Context, skus []string) ([]*model.Product, []error) {
			return fetchProducts(ctx, c, skus)
		}, dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(200)),
	}
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
