// Package api serves WMS's HTTP API, called through Dapr service invocation
// by fulfillment (ERP stock occupation, dispatch) and by operators (ERP
// stock admin). Handlers are thin: decode, call a use case, map domain
// errors to wmsclient's codes.
package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// Handler holds the use cases the routes call.
type Handler struct{ svc *app.Service }

// Mount registers WMS's routes on r.
func Mount(r chi.Router, svc *app.Service) {
	h := &Handler{svc: svc}
	r.Post("/v1/erp-stock", h.setStock)
	r.Get("/v1/erp-stock/{warehouse}/{sku}", h.stock)
	r.Post("/v1/erp-stock/occupations", h.occupy)
	r.Get("/v1/erp-stock/occupations/{id}", h.occupation)
	r.Post("/v1/erp-stock/occupations/{id}/release", h.release)
	r.Post("/v1/orders", h.receive)
	r.Get("/v1/orders/{id}", h.order)
	mountFloor(r, h)
	r.Post("/v1/orders/{id}/intercept", h.intercept)
	r.Post("/v1/interceptions", h.interceptAll)
	r.Post("/v1/returns", h.noticeReturn)
}

func problem(err error) error {
	var short *domain.StockShortError
	switch {
	case errors.As(err, &short):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeStockShort, "%s", short.Error()).
			With(map[string]any{"skus": short.SKUs})
	case errors.Is(err, domain.ErrUnknownWarehouse):
		return httpapi.Errorf(http.StatusUnprocessableEntity, wmsclient.CodeUnknownWH, "%s", err.Error())
	case errors.Is(err, domain.ErrIntercepted):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeIntercepted, "%s", err.Error())
	case errors.Is(err, domain.ErrTooLateToIntercept):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeTooLate, "%s", err.Error())
	case errors.Is(err, domain.ErrConflict):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeConflict, "%s", err.Error())
	case errors.Is(err, domain.ErrValidation):
		return httpapi.Errorf(http.StatusBadRequest, wmsclient.CodeValidation, "%s", err.Error())
	case errors.Is(err, domain.ErrNotFound):
		return httpapi.Errorf(http.StatusNotFound, wmsclient.CodeNotFound, "%s", err.Error())
	}
	return err
}

func fail(w http.ResponseWriter, r *http.Request, err error) { httpapi.WriteError(w, r, problem(err)) }

func stockOut(s domain.Stock) wmsclient.Stock {
	return wmsclient.Stock{Warehouse: s.Warehouse(), SKU: s.SKU(), OnHand: s.OnHand(), Occupied: s.Occupied(), Free: s.Free(), UpdatedAt: s.UpdatedAt()}
}

func (h *Handler) setStock(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.SetStockRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	s, err := h.svc.SetStock(r.Context(), in.Warehouse, in.SKU, in.OnHand)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, stockOut(s))
}

func (h *Handler) stock(w http.ResponseWriter, r *http.Request) {
	s, err := h.svc.Stock(r.Context(), chi.URLParam(r, "warehouse"), chi.URLParam(r, "sku"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, stockOut(s))
}

func (h *Handler) occupy(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.OccupyRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	lines := make([]domain.Line, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = domain.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Zone: l.Zone}
	}
	o, err := h.svc.Occupy(r.Context(), in.DeliveryOrderID, in.OrderID, in.Warehouse, lines)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, wmsclient.Occupation{DeliveryOrderID: o.DeliveryOrderID(), Status: string(o.Status())})
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.Release(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, wmsclient.Occupation{DeliveryOrderID: o.DeliveryOrderID(), Status: string(o.Status())})
}

func (h *Handler) occupation(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.Occupation(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	lines := o.Lines()
	out := wmsclient.OccupationDetail{DeliveryOrderID: o.DeliveryOrderID(), Warehouse: o.Warehouse(), Status: string(o.Status()),
		Lines: make([]wmsclient.Line, len(lines))}
	for i, l := range lines {
		out.Lines[i] = wmsclient.Line{SKU: l.SKU, Qty: l.Qty}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) receive(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.DispatchRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	o := domain.Order{DeliveryOrderID: in.DeliveryOrderID, OrderID: in.OrderID, CustomerID: in.CustomerID, Warehouse: in.Warehouse,
		Delivery: domain.Delivery{Date: in.DeliveryDate, Express: in.Express, Carrier: in.Carrier, WaybillNo: in.WaybillNo,
			Name: in.Name, Phone: in.Phone, Address: in.Address},
		Lines: make([]domain.Line, len(in.Lines)), Profiles: in.Profiles}
	for i, l := range in.Lines {
		o.Lines[i] = domain.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Zone: l.Zone}
	}
	id, dup, err := h.svc.Receive(r.Context(), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, wmsclient.Receipt{WMSOrderID: id, Duplicate: dup})
}

func (h *Handler) order(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.Order(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	d := o.Delivery
	out := wmsclient.Order{WMSOrderID: o.WMSOrderID, Status: string(o.Status), ReceivedAt: o.ReceivedAt,
		DispatchRequest: wmsclient.DispatchRequest{DeliveryOrderID: o.DeliveryOrderID, OrderID: o.OrderID, CustomerID: o.CustomerID,
			Warehouse: o.Warehouse, DeliveryDate: d.Date, Express: d.Express, Carrier: d.Carrier,
			WaybillNo: d.WaybillNo, Name: d.Name, Phone: d.Phone, Address: d.Address, Profiles: o.Profiles,
			Lines: make([]wmsclient.Line, len(o.Lines))}}
	for i, l := range o.Lines {
		out.Lines[i] = wmsclient.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Zone: l.Zone}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) intercept(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.InterceptRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	x, err := h.svc.Intercept(r.Context(), chi.URLParam(r, "id"), in.Reason)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, wmsclient.Interception{DeliveryOrderID: x.DeliveryOrderID, WMSOrderID: x.WMSOrderID,
		Tombstone: x.Tombstone, At: x.At})
}

func (h *Handler) interceptAll(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.InterceptAllRequest
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	xs, err := h.svc.InterceptAll(r.Context(), in.DeliveryOrderIDs, in.Reason)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := wmsclient.Interceptions{Interceptions: make([]wmsclient.Interception, 0, len(xs))}
	for _, x := range xs {
		out.Interceptions = append(out.Interceptions, wmsclient.Interception{DeliveryOrderID: x.DeliveryOrderID, WMSOrderID: x.WMSOrderID,
			Tombstone: x.Tombstone, At: x.At})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) noticeReturn(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.ReturnNotice
	if err := httpapi.Decode(r, &in); err != nil {
		fail(w, r, err)
		return
	}
	n := domain.ReturnNotice{NoticeID: in.NoticeID, OrderID: in.OrderID, RequestID: in.RequestID, Kind: in.Kind, WaybillNo: in.WaybillNo}
	for _, l := range in.Lines {
		n.Lines = append(n.Lines, domain.Line{SKU: l.SKU, Qty: l.Qty})
	}
	out, dup, err := h.svc.NoticeReturn(r.Context(), n)
	if err != nil {
		fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, wmsclient.ReturnReceipt{NoticeID: out.NoticeID, Status: out.Status, Duplicate: dup, At: out.At})
}
