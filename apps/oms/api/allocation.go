package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// allocation answers an order's lines with stage 5's allocation of its
// freight and non-cash part (domain.Allocate, the function the stage
// runs), for after-sales to spread a partial return's refund exactly as
// the order was spread.
func (h *Handler) allocation(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.GetOrder(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		httpapi.WriteError(w, r, problem(err))
		return
	}
	lines := make([]domain.FLine, 0, len(o.Lines()))
	for _, l := range o.Lines() {
		lines = append(lines, domain.FLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, UnitPrice: l.UnitPrice, Amount: l.Amount})
	}
	out := omsclient.Allocation{OrderID: o.ID(), CustomerID: o.CustomerID(), Status: string(o.Status()), Refused: o.Refused(),
		FreightFen: o.Freight(), NonCashFen: o.NonCash(), PaidFen: o.Paid(), TradeID: o.TradeID(), DeductionIDs: o.DeductionIDs(), Address: omsclient.Address(o.Address()),
		Lines: []omsclient.AllocatedLine{}}
	alloc, err := domain.Allocate(lines, o.Freight(), o.NonCash())
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, omsclient.CodeNotAllocatable, "%s", err.Error()))
		return
	}
	if o.Refused() {
		units, err := h.svc.OrderRefusedUnits(r.Context(), o.ID())
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		for _, l := range units {
			out.RefusedLines = append(out.RefusedLines, omsclient.RefusedLine{SKU: l.SKU, Qty: l.Qty})
		}
	}
	for _, l := range alloc {
		out.Lines = append(out.Lines, omsclient.AllocatedLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, AmountFen: l.Amount,
			FreightFen: l.Freight, NonCashFen: l.NonCash, CashFen: l.Cash})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
