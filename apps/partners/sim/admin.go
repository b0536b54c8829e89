package sim

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Fault is a failure switch for one named partner API: wechat.create,
// wechat.query, wechat.refund, wechat.refund_query, alipay.create,
// alipay.query, alipay.refund, alipay.refund_query, cashier.pay,
// fms.receipts, fms.vouchers, fms.refund_audits, for outgoing
// callbacks callbacks.WECHAT, callbacks.ALIPAY, callbacks.FMS, and the
// outside APIs fulfillment calls (sms.messages, push.messages,
// fms.payment_vouchers, risk.scores, presale.orders, tms.waybills,
// invoice.invoices, suppliers.orders; the reverse flow's tms.pickups,
// fms.refund_vouchers, fms.settlements, presale.sellable_stock,
// suppliers.purchase_returns, suppliers.interceptions, suppliers.interception_releases). Every API also obeys its family's
// switch ("sms", "tms", "wechat", "callbacks" …: the name before the
// first dot) when none names it exactly. DropCallbacks means nothing to
// the outside APIs.
type Fault struct {
	Name          string  `json:"name"`
	DelayMs       int     `json:"delay_ms"`       // answer (or send) this much later
	FailRate      float64 `json:"fail_rate"`      // share of calls answered 503 (or callbacks lost and retried)
	DropCallbacks bool    `json:"drop_callbacks"` // callbacks are never sent
}

// SetFault installs (or, all zero, clears) a fault.
func (s *Server) SetFault(ctx context.Context, f Fault) error {
	if f.Name == "" || f.FailRate < 0 || f.FailRate > 1 || f.DelayMs < 0 {
		return errors.New("fault needs a name, fail_rate in [0,1] and delay_ms >= 0")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO faults (name, delay_ms, fail_rate, drop_callbacks, updated_at) VALUES (?,?,?,?,?)
		ON DUPLICATE KEY UPDATE delay_ms=VALUES(delay_ms), fail_rate=VALUES(fail_rate), drop_callbacks=VALUES(drop_callbacks), updated_at=VALUES(updated_at)`,
		f.Name, f.DelayMs, f.FailRate, f.DropCallbacks, s.now())
	s.faults.Forget()
	return err
}

// faultsFresh is how long the switches and risk rules read from their
// tables are trusted (fresh.Copy): every partner call checks its fault
// switches, and reading them from MariaDB on each call (twice: the API's
// and its family's) was a third of the statements a fulfilled order cost
// the database; every fraud score read the rules. One set through this
// process takes effect at once (the copy is dropped); one set through
// another replica, within this time.
const faultsFresh = 250 * time.Millisecond

func (s *Server) fault(ctx context.Context, name string) (Fault, error) {
	m, err := s.faults.Get(ctx, func(ctx context.Context) (map[string]Fault, error) {
		fs, err := s.readFaults(ctx)
		m := make(map[string]Fault, len(fs))
		for _, f := range fs {
			m[f.Name] = f
		}
		return m, err
	})
	if err != nil {
		return Fault{Name: name}, err
	}
	f, ok := m[name]
	if !ok {
		f = Fault{Name: name}
	}
	return f, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// injectFault applies the named API's fault; true when it answered the
// request itself with a 503.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, name string) bool {
	f, err := s.faultFor(r.Context(), name)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return true
	}
	sleepCtx(r.Context(), time.Duration(f.DelayMs)*time.Millisecond)
	if f.FailRate > 0 && s.rand() < f.FailRate {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "SYSTEM_ERROR", "message": "injected fault " + name})
		return true
	}
	return false
}

func (s *Server) faultSet(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := httpapi.Decode(r, &f); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if err := s.SetFault(r.Context(), f); err != nil {
		badRequest(w, r, err.Error())
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, f)
}

func (s *Server) faultList(w http.ResponseWriter, r *http.Request) {
	out, err := s.readFaults(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// readFaults reads every fault switch, by name.
func (s *Server) readFaults(ctx context.Context) ([]Fault, error) {
	out, err := sqltx.Collect[Fault](s.db.QueryContext(ctx, `SELECT name, delay_ms, fail_rate, drop_callbacks FROM faults ORDER BY name`))(
		func(row interface{ Scan(...any) error }) (Fault, error) {
			var f Fault
			return f, row.Scan(&f.Name, &f.DelayMs, &f.FailRate, &f.DropCallbacks)
		})
	if out == nil && err == nil {
		out = []Fault{} // listed as [], not null
	}
	return out, err
}

func (s *Server) faultClear(w http.ResponseWriter, r *http.Request) {
	_, err := s.db.ExecContext(r.Context(), `DELETE FROM faults`)
	s.faults.Forget()
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Notification is a queued callback as the admin API shows it.
type Notification struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Channel    string    `json:"channel"`
	RefNo      string    `json:"ref_no"`
	OutTradeNo string    `json:"out_trade_no"`
	Target     string    `json:"target"`
	Status     string    `json:"status"` // PENDING, DELIVERED, DROPPED, GAVE_UP
	Attempts   int       `json:"attempts"`
	Deliveries int       `json:"deliveries"`
	NextAt     time.Time `json:"next_at"`
	LastError  string    `json:"last_error,omitempty"`
}

// Notifications lists callbacks about a trade (or a refund / audit reference).
func (s *Server) Notifications(ctx context.Context, ref string) ([]Notification, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, channel, ref_no, out_trade_no, target, status, attempts, deliveries, next_at, COALESCE(last_error,'')
		FROM notifications WHERE out_trade_no=? OR ref_no=? ORDER BY id`, ref, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		if err := rows.Scan(&n.ID, &n.Kind, &n.Channel, &n.RefNo, &n.OutTradeNo, &n.Target, &n.Status, &n.Attempts, &n.Deliveries, &n.NextAt, &n.LastError); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *Server) adminNotifications(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		badRequest(w, r, "ref (out_trade_no, refund no or refund id) is required")
		return
	}
	list, err := s.Notifications(r.Context(), ref)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
}

func (s *Server) adminTrade(w http.ResponseWriter, r *http.Request) {
	ch, no := chi.URLParam(r, "channel"), chi.URLParam(r, "no")
	t, err := s.getTrade(r.Context(), ch, no)
	if err != nil {
		writeCashierErr(w, r, err)
		return
	}
	rows, err := s.db.QueryContext(r.Context(), `SELECT `+refundCols+` FROM channel_refunds WHERE channel=? AND out_trade_no=? ORDER BY created_at`, ch, no)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	refunds := []crefund{}
	for rows.Next() {
		f, err := scanCRefund(rows)
		if err != nil {
			rows.Close()
			httpapi.WriteError(w, r, err)
			return
		}
		refunds = append(refunds, f)
	}
	rows.Close()
	notes, err := s.Notifications(r.Context(), no)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"trade": t, "refunds": refunds, "notifications": notes})
}
