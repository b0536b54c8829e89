package sim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// FMS, the finance system. It receives received-amount pushes and payment
// vouchers and records each once by its id (a resend only counts up
// deliveries, so tests can assert "pushed once"); it audits refunds and
// approves them after AuditDelay (or by hand), telling PAY by a callback
// to pay/v1/refunds/{id}/audit that PAY confirms by GET
// /fms/v1/refund-audits/{id}.

type receipt struct {
	PushID     string          `json:"push_id"`
	Kind       string          `json:"kind"`
	RefID      string          `json:"ref_id"`
	AmountFen  int64           `json:"amount_fen"`
	Deliveries int             `json:"deliveries"`
	ReceivedAt time.Time       `json:"received_at"`
	Body       json.RawMessage `json:"body"`
}

func readJSON(r *http.Request) ([]byte, map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, nil, err
	}
	return body, m, nil
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func num(m map[string]any, k string) int64 { f, _ := m[k].(float64); return int64(f) }

func badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	httpapi.WriteError(w, r, httpapi.Errorf(http.StatusBadRequest, "PARAM_ERROR", "%s", msg))
}

func (s *Server) fmsReceipt(w http.ResponseWriter, r *http.Request) {
	if s.injectFault(w, r, "fms.receipts") {
		return
	}
	body, m, err := readJSON(r)
	if err != nil || str(m, "push_id") == "" || str(m, "kind") == "" || str(m, "ref_id") == "" {
		badRequest(w, r, "push_id, kind and ref_id are required")
		return
	}
	_, err = s.db.ExecContext(r.Context(), `INSERT INTO fms_receipts (push_id, kind, ref_id, amount_fen, body, received_at) VALUES (?,?,?,?,?,?)
		ON DUPLICATE KEY UPDATE deliveries=deliveries+1`, str(m, "push_id"), str(m, "kind"), str(m, "ref_id"), num(m, "amount_fen"), body, s.now())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"push_id": str(m, "push_id"), "status": "RECEIVED"})
}

func (s *Server) fmsReceipts(w http.ResponseWriter, r *http.Request) {
	list, err := s.Receipts(r.Context(), r.URL.Query().Get("ref_id"), r.URL.Query().Get("kind"))
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
}

// Receipts lists what finance received for a reference (and kind, when given).
func (s *Server) Receipts(ctx context.Context, refID, kind string) ([]receipt, error) {
	q := `SELECT push_id, kind, ref_id, amount_fen, deliveries, received_at, body FROM fms_receipts WHERE ref_id=?`
	args := []any{refID}
	if kind != "" {
		q += ` AND kind=?`
		args = append(args, kind)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY received_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []receipt{}
	for rows.Next() {
		var x receipt
		var b []byte
		if err := rows.Scan(&x.PushID, &x.Kind, &x.RefID, &x.AmountFen, &x.Deliveries, &x.ReceivedAt, &b); err != nil {
			return nil, err
		}
		x.Body = b
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Server) fmsVoucher(w http.ResponseWriter, r *http.Request) {
	if s.injectFault(w, r, "fms.vouchers") {
		return
	}
	body, m, err := readJSON(r)
	if err != nil || str(m, "voucher_id") == "" || str(m, "order_id") == "" {
		badRequest(w, r, "voucher_id and order_id are required")
		return
	}
	_, err = s.db.ExecContext(r.Context(), `INSERT INTO fms_vouchers (voucher_id, order_id, body, received_at) VALUES (?,?,?,?)
		ON DUPLICATE KEY UPDATE deliveries=deliveries+1`, str(m, "voucher_id"), str(m, "order_id"), body, s.now())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"voucher_id": str(m, "voucher_id"), "status": "RECEIVED"})
}

func (s *Server) fmsVouchers(w http.ResponseWriter, r *http.Request) {
	rows, err := s.db.QueryContext(r.Context(), `SELECT voucher_id, order_id, deliveries, received_at, body FROM fms_vouchers WHERE order_id=? ORDER BY received_at`,
		r.URL.Query().Get("order_id"))
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	defer rows.Close()
	type voucher struct {
		VoucherID  string          `json:"voucher_id"`
		OrderID    string          `json:"order_id"`
		Deliveries int             `json:"deliveries"`
		ReceivedAt time.Time       `json:"received_at"`
		Body       json.RawMessage `json:"body"`
	}
	out := []voucher{}
	for rows.Next() {
		var v voucher
		var b []byte
		if err := rows.Scan(&v.VoucherID, &v.OrderID, &v.Deliveries, &v.ReceivedAt, &b); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		v.Body = b
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// Audit is a refund audit as FMS shows it.
type Audit struct {
	RefundID   string     `json:"refund_id"`
	TradeID    string     `json:"trade_id"`
	OrderID    string     `json:"order_id"`
	AmountFen  int64      `json:"amount_fen"`
	Reason     string     `json:"reason"`
	Status     string     `json:"status"` // PENDING, APPROVED, REJECTED
	Deliveries int        `json:"deliveries"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
}

func (s *Server) fmsAuditCreate(w http.ResponseWriter, r *http.Request) {
	if s.injectFault(w, r, "fms.refund_audits") {
		return
	}
	_, m, err := readJSON(r)
	if err != nil || str(m, "push_id") == "" || str(m, "ref_id") == "" || num(m, "amount_fen") <= 0 {
		badRequest(w, r, "push_id, ref_id and a positive amount_fen are required")
		return
	}
	now := s.now()
	var decideAt any
	if s.cfg.AuditAuto {
		decideAt = now.Add(s.cfg.AuditDelay)
	}
	_, err = s.db.ExecContext(r.Context(), `INSERT INTO fms_refund_audits (refund_id, push_id, trade_id, order_id, amount_fen, reason, status, decide_at, received_at)
		VALUES (?,?,?,?,?,?,'PENDING',?,?) ON DUPLICATE KEY UPDATE deliveries=deliveries+1`,
		str(m, "ref_id"), str(m, "push_id"), str(m, "trade_id"), str(m, "order_id"), num(m, "amount_fen"), str(m, "reason"), decideAt, now)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	a, err := s.GetAudit(r.Context(), str(m, "ref_id"))
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, a)
}

var errNoAudit = errors.New("audit does not exist")

// GetAudit returns one refund audit.
func (s *Server) GetAudit(ctx context.Context, refundID string) (Audit, error) {
	var a Audit
	var decided sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT refund_id, trade_id, order_id, amount_fen, reason, status, deliveries, decided_at FROM fms_refund_audits WHERE refund_id=?`,
		refundID).Scan(&a.RefundID, &a.TradeID, &a.OrderID, &a.AmountFen, &a.Reason, &a.Status, &a.Deliveries, &decided)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errNoAudit
	}
	if decided.Valid {
		t := decided.Time
		a.DecidedAt = &t
	}
	return a, err
}

func (s *Server) fmsAuditGet(w http.ResponseWriter, r *http.Request) {
	a, err := s.GetAudit(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, errNoAudit) {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusNotFound, "AUDIT_NOT_FOUND", "no audit for refund %s", chi.URLParam(r, "id")))
		return
	}
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, a)
}

func (s *Server) fmsAuditDecide(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if err := s.Decide(r.Context(), id, status); err != nil {
			if errors.Is(err, errNoAudit) {
				httpapi.WriteError(w, r, httpapi.Errorf(http.StatusNotFound, "AUDIT_NOT_FOUND", "no audit for refund %s", id))
				return
			}
			httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, "AUDIT_DECIDED", "%v", err))
			return
		}
		a, err := s.GetAudit(r.Context(), id)
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, a)
	}
}

// Decide approves or rejects a pending audit and queues the callback to PAY.
// Deciding again the same way is harmless; the other way is an error.
func (s *Server) Decide(ctx context.Context, refundID, status string) error {
	return sqltx.Run(ctx, s.db, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT status FROM fms_refund_audits WHERE refund_id=? FOR UPDATE`, refundID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoAudit
		}
		if err != nil {
			return err
		}
		if cur == status {
			return nil
		}
		if cur != "PENDING" {
			return errors.New("audit already " + cur)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fms_refund_audits SET status=?, decided_at=? WHERE refund_id=?`, status, s.now(), refundID); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, kindAudit, "FMS", refundID, "", s.cfg.PayApp+"/v1/refunds/"+url.PathEscape(refundID)+"/audit")
	})
}

// decideAudits approves audits whose time has come.
func (s *Server) decideAudits(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT refund_id FROM fms_refund_audits WHERE status='PENDING' AND decide_at <= ? LIMIT 200`, s.now())
	if err != nil {
		return err
	}
	var due []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		due = append(due, id)
	}
	rows.Close()
	for _, id := range due {
		if err := s.Decide(ctx, id, "APPROVED"); err != nil {
			return err
		}
	}
	return nil
}
