package stages

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// errUnknownSKU: the catalog has no entry for a SKU of the order.
var errUnknownSKU = errors.New("unknown SKU")

// fillStage is the fill stage.
func fillStage(p *Ports) Stage {
	return Stage{Name: "fill", Kind: runner.IO, Partner: true, EffectFree: true, Units: runner.Roots, Run: p.fill}
}

// Stage 4: expand virtual bundles and fill catalog data.
func (p *Ports) fill(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.Filled {
		return Next("already filled")
	}
	prods, err := p.products(ctx, skusOf(d.Lines))
	if err != nil {
		return p.catalogFailure(u, err)
	}
	var compSKUs []string
	for _, p := range prods {
		for _, c := range p.Components {
			compSKUs = append(compSKUs, c.SKU)
		}
	}
	comps, err := p.products(ctx, compSKUs)
	if err != nil {
		return p.catalogFailure(u, err)
	}
	var out []domain.FLine
	bundles := 0
	for _, l := range d.Lines {
		p := prods[l.SKU]
		if len(p.Components) == 0 {
			out = append(out, fillLine(l, p))
			continue
		}
		bundles++
		cps := make([]domain.ComponentPrice, len(p.Components))
		for i, c := range p.Components {
			cp := comps[c.SKU]
			cps[i] = domain.ComponentPrice{SKU: c.SKU, Name: cp.Name, Qty: c.Qty, UnitPrice: cp.PriceFen}
		}
		parts, err := domain.ExpandBundle(l, cps)
		if err != nil {
			return Fail("BAD_BUNDLE", err.Error())
		}
		for _, c := range parts {
			if l.Kind == domain.KindGift {
				c.Kind, c.Campaign = domain.KindGift, l.Campaign
			}
			out = append(out, fillLine(c, comps[c.SKU]))
		}
	}
	d.Lines, d.Filled = out, true
	return Next(fmt.Sprintf("%d lines, %d bundles expanded", len(out), bundles))
}

func fillLine(l domain.FLine, p inventoryclient.Product) domain.FLine {
	if l.Name == "" {
		l.Name = p.Name
	}
	l.TaxRateBP, l.Zone, l.Warehouse, l.Supplier = p.TaxRateBP, p.Zone, p.Warehouse, p.Supplier
	l.DropShip, l.Presale = p.DropShip, p.Presale
	return l
}

func skusOf(lines []domain.FLine) []string {
	var out []string
	for _, l := range lines {
		if !slices.Contains(out, l.SKU) {
			out = append(out, l.SKU)
		}
	}
	return out
}

func (p *Ports) products(ctx context.Context, skus []string) (map[string]inventoryclient.Product, error) {
	out := map[string]inventoryclient.Product{}
	if len(skus) == 0 {
		return out, nil
	}
	slices.Sort(skus)
	skus = slices.Compact(skus)
	ps, err := p.Catalog.CatalogEntries(ctx, skus)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.SKU] = p
	}
	for _, s := range skus {
		if _, ok := out[s]; !ok {
			return nil, fmt.Errorf("%w %s", errUnknownSKU, s)
		}
	}
	return out, nil
}

func (p *Ports) catalogFailure(u *Unit, err error) Outcome {
	if errors.Is(err, errUnknownSKU) || httpapi.HasCode(err, inventoryclient.CodeUnknownSKU) {
		return Fail("UNKNOWN_SKU", err.Error())
	}
	return p.failure(u, "catalog", err)
}
