package sim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// The reverse flow's outside APIs beside pickups and refund vouchers
// (DOMAIN 5's push types): finance's settlement data, purchasing's
// presale sellable stock, drop-ship suppliers' purchase returns and
// interceptions. Each is an outside API like the others (outside.go):
// latency, fault switch by name or family, 400 REJECTED on bad input,
// recorded once by its caller's id.

// API names of the reverse flow's pushes.
const (
	APISettlement      = "fms.settlements"
	APIPresaleStock    = "presale.sellable_stock"
	APIPurchaseReturn  = "suppliers.purchase_returns"
	APIInterception    = "suppliers.interceptions"
	APIRelease         = "suppliers.interception_releases"
	supplierReceived   = "RECEIVED"
	supplierIntercepts = "INTERCEPTED"
)

func (s *Server) mountReverseAPIs(r chi.Router) {
	r.Post("/fms/v1/settlements", s.settlement())
	r.Post("/presale/v1/sellable-stock", s.presaleStock())
	r.Post("/suppliers/v1/purchase-returns", s.purchaseReturn())
	r.Post("/suppliers/v1/interceptions", s.supplierIntercept())
	r.Post("/suppliers/v1/interception-releases", s.supplierRelease())
}

func kindOf(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return rejected(field, "%s %q is not one of %v", field, v, allowed)
}

// settlement is finance's intake of settlement data, once per id: the
// lines add up to the header, nothing negative.
func (s *Server) settlement() http.HandlerFunc {
	return serve(s, APISettlement, func(v *pc.Settlement) error {
		if err := firstErr(idField("settlement_id", v.SettlementID), idField("order_id", v.OrderID), idField("request_id", v.RequestID),
			kindOf("kind", v.Kind, "CANCEL", "RETURN", "REJECTION")); err != nil {
			return err
		}
		if v.CashFen < 0 || v.NonCashFen < 0 || v.FreightFen < 0 {
			return rejected("amounts", "amounts must not be negative (cash %d, non-cash %d, freight %d)", v.CashFen, v.NonCashFen, v.FreightFen)
		}
		if len(v.Lines) == 0 {
			return rejected("lines", "lines must not be empty")
		}
		var cash, nonCash, freight int64
		for i, l := range v.Lines {
			if err := required(fmt.Sprintf("lines[%d].sku", i), l.SKU); err != nil {
				return err
			}
			if l.Qty <= 0 || l.CashFen < 0 || l.NonCashFen < 0 || l.FreightFen < 0 {
				return rejected(fmt.Sprintf("lines[%d]", i), "lines[%d] needs a positive qty and no negative amount", i)
			}
			cash, nonCash, freight = cash+int64(l.CashFen), nonCash+int64(l.NonCashFen), freight+int64(l.FreightFen)
		}
		if cash != int64(v.CashFen) || nonCash != int64(v.NonCashFen) || freight != int64(v.FreightFen) {
			return rejected("lines", "lines sum to cash %d, non-cash %d, freight %d; the header says %d, %d, %d",
				cash, nonCash, freight, v.CashFen, v.NonCashFen, v.FreightFen)
		}
		return nil
	}, func(v *pc.Settlement) (string, string) { return v.SettlementID, v.OrderID },
		receiptFirst[pc.Settlement]("JS"), markReceiptDup)
}

// presaleStock is purchasing's presale sellable-stock maintenance, once
// per update id.
func (s *Server) presaleStock() http.HandlerFunc {
	return serve(s, APIPresaleStock, func(u *pc.PresaleStockUpdate) error {
		return firstErr(idField("update_id", u.UpdateID), idField("order_id", u.OrderID), kindOf("kind", u.Kind, "CANCEL", "REJECTION"),
			goodsLines(u.Lines))
	}, func(u *pc.PresaleStockUpdate) (string, string) { return u.UpdateID, u.OrderID },
		receiptFirst[pc.PresaleStockUpdate]("KM"), markReceiptDup)
}

// purchaseReturn is a drop-ship supplier's intake of purchase returns,
// once per return id; the receipt is the supplier's return number.
func (s *Server) purchaseReturn() http.HandlerFunc {
	return serve(s, APIPurchaseReturn, func(p *pc.PurchaseReturn) error {
		return firstErr(idField("return_id", p.ReturnID), idField("supplier", p.Supplier), idField("order_id", p.OrderID),
			idField("request_id", p.RequestID), kindOf("kind", p.Kind, "RETURN", "REJECTION"), goodsLines(p.Lines))
	}, func(p *pc.PurchaseReturn) (string, string) { return p.ReturnID, p.OrderID },
		func(_ context.Context, p *pc.PurchaseReturn, seq int64) (pc.Receipt, error) {
			return pc.Receipt{ID: receiptNo(supplierCode(p.Supplier)+"R", seq)}, nil
		}, markReceiptDup)
}

// supplierIntercept stops a drop-ship delivery order at its supplier: one
// upsert of the delivery order's row, which its order intake writes too,
// so the two serialise. Not received yet: a tombstone refuses it later.
// Received and not shipped: intercepted. Shipped: CodeSupplierShipped,
// nothing recorded (asking again answers the same).
func (s *Server) supplierIntercept() http.HandlerFunc {
	return serve(s, APIInterception, func(i *pc.SupplierInterception) error {
		return firstErr(idField("delivery_order_id", i.DeliveryOrderID), idField("supplier", i.Supplier), required("reason", i.Reason))
	}, func(i *pc.SupplierInterception) (string, string) { return i.DeliveryOrderID, i.DeliveryOrderID },
		func(ctx context.Context, i *pc.SupplierInterception, seq int64) (pc.Receipt, error) {
			now := s.now()
			if _, err := s.db.ExecContext(ctx, `INSERT INTO supplier_orders (delivery_order_id, supplier, state, ship_at, updated_at) VALUES (?,?,?,NULL,?)
				ON DUPLICATE KEY UPDATE state=IF(ship_at IS NULL OR ship_at > VALUES(updated_at), VALUES(state), state), updated_at=VALUES(updated_at)`,
				i.DeliveryOrderID, i.Supplier, supplierIntercepts, now); err != nil {
				return pc.Receipt{}, fmt.Errorf("intercept %s: %w", i.DeliveryOrderID, err)
			}
			var state string
			if err := s.db.QueryRowContext(ctx, `SELECT state FROM supplier_orders WHERE delivery_order_id=?`, i.DeliveryOrderID).Scan(&state); err != nil {
				return pc.Receipt{}, err
			}
			if state != supplierIntercepts {
				return pc.Receipt{}, httpapi.Errorf(http.StatusConflict, pc.CodeSupplierShipped, "supplier %s shipped delivery order %s already", i.Supplier, i.DeliveryOrderID)
			}
			return pc.Receipt{ID: receiptNo("IC", seq)}, nil
		}, markReceiptDup)
}

// supplierRelease lifts an interception (the cancel was refused for
// another part of the order, which ships, so this part must ship too): a
// received delivery order goes back to RECEIVED and ships as it would
// have; a tombstone of one never received is dropped, so its hand-over
// is taken when it comes. Repeating it, or releasing what was never
// intercepted, changes nothing.
func (s *Server) supplierRelease() http.HandlerFunc {
	return serve(s, APIRelease, func(i *pc.SupplierInterception) error {
		return firstErr(idField("delivery_order_id", i.DeliveryOrderID), idField("supplier", i.Supplier), required("reason", i.Reason))
	}, func(i *pc.SupplierInterception) (string, string) { return i.DeliveryOrderID, i.DeliveryOrderID },
		func(ctx context.Context, i *pc.SupplierInterception, seq int64) (pc.Receipt, error) {
			err := sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `DELETE FROM supplier_orders WHERE delivery_order_id=? AND state=? AND received_at IS NULL`,
					i.DeliveryOrderID, supplierIntercepts); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE supplier_orders SET state=?, updated_at=? WHERE delivery_order_id=? AND state=?`,
					supplierReceived, s.now(), i.DeliveryOrderID, supplierIntercepts)
				return err
			})
			if err != nil {
				return pc.Receipt{}, fmt.Errorf("release %s: %w", i.DeliveryOrderID, err)
			}
			return pc.Receipt{ID: receiptNo("RL", seq)}, nil
		}, markReceiptDup)
}

// takeSupplierOrder records a drop-ship delivery order at its supplier
// (the order intake's first answer): refused when an interception's
// tombstone is there.
func (s *Server) takeSupplierOrder(ctx context.Context, o *pc.SupplierOrder) error {
	now := s.now()
	var shipAt any
	if s.cfg.SupplierShipDelay > 0 {
		shipAt = now.Add(s.cfg.SupplierShipDelay)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO supplier_orders (delivery_order_id, supplier, state, ship_at, received_at, updated_at)
		VALUES (?,?,?,?,?,?)`, o.DeliveryOrderID, o.Supplier, supplierReceived, shipAt, now, now); err != nil {
		return fmt.Errorf("record supplier order %s: %w", o.DeliveryOrderID, err)
	}
	var state string
	if err := s.db.QueryRowContext(ctx, `SELECT state FROM supplier_orders WHERE delivery_order_id=?`, o.DeliveryOrderID).Scan(&state); err != nil {
		return err
	}
	if state == supplierIntercepts {
		return httpapi.Errorf(http.StatusBadRequest, pc.CodeIntercepted, "delivery order %s was intercepted at supplier %s", o.DeliveryOrderID, o.Supplier)
	}
	return nil
}

// adminSupplierShip makes a supplier ship a delivery order now (tests:
// "too late to intercept").
func (s *Server) adminSupplierShip(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	n, err := affected(s.db.ExecContext(r.Context(), `UPDATE supplier_orders SET ship_at=?, updated_at=? WHERE delivery_order_id=? AND state=?`,
		s.now(), s.now(), id, supplierReceived))
	switch {
	case err != nil:
		httpapi.WriteError(w, r, err)
	case n == 0:
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, "NOT_OPEN", "the supplier has no open delivery order %s", id))
	default:
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"delivery_order_id": id, "state": "SHIPPED"})
	}
}

// SupplierOrderState is a delivery order's state at its supplier
// (RECEIVED, SHIPPED, INTERCEPTED); "" when the supplier never heard of it.
func (s *Server) SupplierOrderState(ctx context.Context, id string) (string, error) {
	var state string
	var shipAt sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT state, ship_at FROM supplier_orders WHERE delivery_order_id=?`, id).Scan(&state, &shipAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err == nil && state == supplierReceived && shipAt.Valid && !shipAt.Time.After(s.now()) {
		state = "SHIPPED"
	}
	return state, err
}
