package sim

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// ERP's stock-movement intake (DOMAIN 7.3): WMS uploads every movement of
// its transaction log; ERP books each once by its id and counts repeats.
// Fault switch "erp.stock_movements" (or "erp").

// APIMovements is the movement upload's API name.
const APIMovements = "erp.stock_movements"

func (s *Server) mountERP(r chi.Router) {
	r.Post("/erp/v1/stock-movements", s.erpMovements)
	r.Get("/erp/v1/purchase-orders/{id}", s.erpPurchaseOrder)
}

func (s *Server) erpMovements(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIMovements) {
		return
	}
	var in pc.MovementUpload
	if _, err := decodeStrict(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if len(in.Movements) == 0 || len(in.Movements) > 1000 {
		httpapi.WriteError(w, r, rejected("movements", "1..1000 movements are required"))
		return
	}
	for i, m := range in.Movements {
		if err := firstErr(idField("id", m.ID), idField("warehouse", m.Warehouse), idField("sku", m.SKU), required("kind", m.Kind)); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("movements[%d]: %w", i, err))
			return
		}
	}
	var out pc.UploadReceipt
	now := s.now()
	for _, m := range in.Movements {
		n, err := affected(s.db.ExecContext(r.Context(), `INSERT INTO erp_movements (movement_id, warehouse, sku, kind, qty, ref, received_at)
			VALUES (?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE deliveries=deliveries+1`, m.ID, m.Warehouse, m.SKU, m.Kind, m.Qty, m.Ref, now))
		if err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("book movement %s: %w", m.ID, err))
			return
		}
		if n == 1 {
			out.Accepted++
		} else {
			out.Duplicates++
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// adminERPMovements shows what ERP booked of a warehouse's SKU: how many
// movements, their net quantity, and the most deliveries of one.
func (s *Server) adminERPMovements(w http.ResponseWriter, r *http.Request) {
	var out struct {
		Movements     int   `json:"movements"`
		NetQty        int64 `json:"net_qty"`
		MaxDeliveries int   `json:"max_deliveries"`
	}
	err := s.db.QueryRowContext(r.Context(), `SELECT COUNT(*), COALESCE(SUM(qty),0), COALESCE(MAX(deliveries),0) FROM erp_movements
		WHERE warehouse=? AND sku=?`, r.URL.Query().Get("warehouse"), r.URL.Query().Get("sku")).Scan(&out.Movements, &out.NetQty, &out.MaxDeliveries)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// Purchase orders (DOMAIN 7.3, goods receipt): ERP holds what suppliers
// are to deliver; the stand-in's are created by its admin route (tests and
// load runs), idempotent by id, and WMS reads them before receiving.

// APIPurchaseOrders is the purchase-order read's API name.
const APIPurchaseOrders = "erp.purchase_orders"

func (s *Server) erpPurchaseOrder(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIPurchaseOrders) {
		return
	}
	id := chi.URLParam(r, "id")
	var p pc.PurchaseOrder
	err := s.db.QueryRowContext(r.Context(), `SELECT po_id, warehouse, supplier FROM erp_purchase_orders WHERE po_id=?`, id).
		Scan(&p.ID, &p.Warehouse, &p.Supplier)
	if errors.Is(err, sql.ErrNoRows) {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusNotFound, pc.CodePONotFound, "no purchase order %s", id))
		return
	}
	if err != nil {
		httpapi.WriteError(w, r, fmt.Errorf("read purchase order %s: %w", id, err))
		return
	}
	rows, err := s.db.QueryContext(r.Context(), `SELECT sku, qty FROM erp_purchase_order_lines WHERE po_id=? ORDER BY sku`, id)
	if err != nil {
		httpapi.WriteError(w, r, fmt.Errorf("read purchase order %s: %w", id, err))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var l pc.PurchaseOrderLine
		if err := rows.Scan(&l.SKU, &l.Qty); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("read purchase order %s: %w", id, err))
			return
		}
		p.Lines = append(p.Lines, l)
	}
	if err := rows.Err(); err != nil {
		httpapi.WriteError(w, r, fmt.Errorf("read purchase order %s: %w", id, err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// adminPurchaseOrder creates a purchase order; the same id again with the
// same content answers it, with other content is REJECTED.
func (s *Server) adminPurchaseOrder(w http.ResponseWriter, r *http.Request) {
	var in pc.PurchaseOrder
	body, err := decodeStrict(r, &in)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if err := firstErr(idField("id", in.ID), idField("warehouse", in.Warehouse), idField("supplier", in.Supplier)); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if len(in.Lines) == 0 || len(in.Lines) > 500 {
		httpapi.WriteError(w, r, rejected("lines", "1..500 lines are required"))
		return
	}
	seen := map[string]bool{}
	for i, l := range in.Lines {
		if err := idField("sku", l.SKU); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("lines[%d]: %w", i, err))
			return
		}
		if l.Qty <= 0 || seen[l.SKU] {
			httpapi.WriteError(w, r, rejected(fmt.Sprintf("lines[%d]", i), "each SKU once, with a positive quantity"))
			return
		}
		seen[l.SKU] = true
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	err = sqltx.Run(r.Context(), s.db, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(r.Context(), `INSERT IGNORE INTO erp_purchase_orders (po_id, warehouse, supplier, request_hash, created_at)
			VALUES (?,?,?,?,?)`, in.ID, in.Warehouse, in.Supplier, hash, s.now()))
		if err != nil {
			return fmt.Errorf("add purchase order %s: %w", in.ID, err)
		}
		if n == 0 {
			var h string
			if err := tx.QueryRowContext(r.Context(), `SELECT request_hash FROM erp_purchase_orders WHERE po_id=?`, in.ID).Scan(&h); err != nil {
				return fmt.Errorf("read purchase order %s: %w", in.ID, err)
			}
			if h != hash {
				return rejected("id", "purchase order %s exists with other content", in.ID)
			}
			return nil
		}
		for _, l := range in.Lines {
			if _, err := tx.ExecContext(r.Context(), `INSERT INTO erp_purchase_order_lines (po_id, sku, qty) VALUES (?,?,?)`, in.ID, l.SKU, l.Qty); err != nil {
				return fmt.Errorf("add purchase order line %s/%s: %w", in.ID, l.SKU, err)
			}
		}
		return nil
	})
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, in)
}
