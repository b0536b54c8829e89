package sim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// TMS parcels (DOMAIN 7.1 step 8 and the delivery leg): WMS imports a
// handover batch's parcels; the courier collects each after
// Config.CollectDelay and delivers it, or the customer refuses it at the
// door (Config.RefuseRate, or POST /admin/tms/parcels/{id}/outcome), after
// Config.DeliverDelay more, each ±50%; every change is reported to WMS
// (Config.WMSApp, POST v1/tms/parcels/{id}/reports) until it is taken,
// retried like a channel's callbacks. A report carries only the parcel id:
// WMS asks GET tms/v1/parcels/{id} what happened, as it should of any
// report. Fault switches: "tms.parcel_imports" fails imports,
// "tms.reports" delays, loses (fail_rate, retried) or drops reports.

// APIParcelImport is the parcel import's API name.
const APIParcelImport = "tms.parcel_imports"

// reportBatch bounds the reports one tick sends.
const reportBatch = 200

func (s *Server) mountTMSParcels(r chi.Router) {
	r.Post("/tms/v1/parcel-imports", s.tmsImport())
	r.Get("/tms/v1/parcels/{id}", s.tmsParcel)
}

// jitter is d ±50%.
func (s *Server) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + s.rand()))
}

func (s *Server) tmsImport() http.HandlerFunc {
	return serve(s, APIParcelImport, func(in *pc.ParcelImport) error {
		if err := firstErr(idField("batch_id", in.BatchID), idField("carrier", in.Carrier)); err != nil {
			return err
		}
		if len(in.Parcels) == 0 || len(in.Parcels) > 10_000 {
			return rejected("parcels", "1..10000 parcels are required")
		}
		for i, p := range in.Parcels {
			if err := firstErr(idField("parcel_id", p.ParcelID), idField("waybill_no", p.WaybillNo), idField("order_id", p.OrderID),
				checkParcelLines("lines", p.Lines)); err != nil {
				return fmt.Errorf("parcels[%d]: %w", i, err)
			}
		}
		return nil
	}, func(in *pc.ParcelImport) (string, string) { return in.BatchID, in.BatchID },
		func(ctx context.Context, in *pc.ParcelImport, seq int64) (pc.Receipt, error) {
			// Idempotent by parcel id, so a repeated import (answered from
			// the record) adds nothing even if this ran again.
			now := s.now()
			for _, p := range in.Parcels {
				outcome := pc.ParcelDelivered
				if s.cfg.RefuseRate > 0 && s.rand() < s.cfg.RefuseRate {
					outcome = pc.ParcelRefused
				}
				collect := now.Add(s.jitter(s.cfg.CollectDelay))
				if _, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO tms_parcels (parcel_id, batch_id, carrier, waybill_no, order_id,
					delivery_order_id, state, state_at, outcome, collect_due, end_due, next_report_at, contents) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
					p.ParcelID, in.BatchID, in.Carrier, p.WaybillNo, p.OrderID, p.DeliveryOrderID, pc.ParcelImported, now, outcome,
					collect, collect.Add(s.jitter(s.cfg.DeliverDelay)), now, linesJSON(p.Lines)); err != nil {
					return pc.Receipt{}, fmt.Errorf("import parcel %s: %w", p.ParcelID, err)
				}
			}
			return pc.Receipt{ID: fmt.Sprintf("TMS%012d", seq)}, nil
		}, func(r *pc.Receipt) { r.Duplicate = true })
}

func (s *Server) tmsParcel(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, "tms.parcels") {
		return
	}
	var p pc.ParcelState
	var refused []byte
	err := s.db.QueryRowContext(r.Context(), `SELECT parcel_id, state, state_at, refused_lines FROM tms_parcels WHERE parcel_id=?`, chi.URLParam(r, "id")).
		Scan(&p.ParcelID, &p.State, &p.At, &refused)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusNotFound, "NOT_FOUND", "no parcel %s", chi.URLParam(r, "id")))
		return
	}
	p.At = p.At.UTC()
	// The courier's report of what was refused is known once the trip
	// ended that way; before, it is only the outcome planned.
	if p.State == pc.ParcelRefused && refused != nil {
		if err := json.Unmarshal(refused, &p.RefusedLines); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("parcel %s refused lines: %w", p.ParcelID, err))
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// adminParcelOutcome sets how a parcel's trip ends (DELIVERED or REFUSED),
// while it has not ended. A refusal may carry the courier's report of the
// units refused (lines, checked against the parcel's manifest); without
// lines the whole parcel is refused.
func (s *Server) adminParcelOutcome(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Outcome string          `json:"outcome"`
		Lines   []pc.ParcelLine `json:"lines"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if in.Outcome != pc.ParcelDelivered && in.Outcome != pc.ParcelRefused {
		httpapi.WriteError(w, r, rejected("outcome", "outcome is DELIVERED or REFUSED"))
		return
	}
	if len(in.Lines) > 0 && in.Outcome != pc.ParcelRefused {
		httpapi.WriteError(w, r, rejected("lines", "only a refusal carries lines"))
		return
	}
	if err := checkParcelLines("lines", in.Lines); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	err := sqltx.Run(r.Context(), s.db, func(tx *sql.Tx) error {
		var contents []byte
		err := tx.QueryRowContext(r.Context(), `SELECT contents FROM tms_parcels WHERE parcel_id=? AND state IN (?,?) FOR UPDATE`,
			id, pc.ParcelImported, pc.ParcelCollected).Scan(&contents)
		if errors.Is(err, sql.ErrNoRows) {
			return httpapi.Errorf(http.StatusConflict, "NOT_OPEN", "parcel %s is unknown or has ended", id)
		}
		if err != nil {
			return err
		}
		if len(in.Lines) > 0 {
			if err := checkAgainstManifest(id, contents, in.Lines); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(r.Context(), `UPDATE tms_parcels SET outcome=?, refused_lines=? WHERE parcel_id=?`, in.Outcome, linesJSON(in.Lines), id)
		return err
	})
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"outcome": in.Outcome, "lines": in.Lines})
}

// checkParcelLines refuses lines without a SKU, with a quantity below
// one, or naming a SKU twice.
func checkParcelLines(field string, lines []pc.ParcelLine) error {
	seen := map[string]bool{}
	for i, l := range lines {
		if err := idField(fmt.Sprintf("%s[%d].sku", field, i), l.SKU); err != nil {
			return err
		}
		if l.Qty < 1 {
			return rejected(fmt.Sprintf("%s[%d].qty", field, i), "qty is at least 1")
		}
		if seen[l.SKU] {
			return rejected(fmt.Sprintf("%s[%d].sku", field, i), "SKU %s is on two lines", l.SKU)
		}
		seen[l.SKU] = true
	}
	return nil
}

// checkAgainstManifest refuses a refusal's lines naming a SKU the parcel
// does not hold, or more units of it than it holds.
func checkAgainstManifest(parcelID string, contents []byte, lines []pc.ParcelLine) error {
	if contents == nil {
		return httpapi.Errorf(http.StatusConflict, pc.CodeLineNotInParcel, "parcel %s was imported without a manifest: refuse it whole", parcelID).
			With(map[string]any{"field": "lines"})
	}
	var manifest []pc.ParcelLine
	if err := json.Unmarshal(contents, &manifest); err != nil {
		return fmt.Errorf("parcel %s manifest: %w", parcelID, err)
	}
	held := map[string]int64{}
	for _, l := range manifest {
		held[l.SKU] += l.Qty
	}
	for i, l := range lines {
		field := map[string]any{"field": fmt.Sprintf("lines[%d]", i)}
		switch n, ok := held[l.SKU]; {
		case !ok:
			return httpapi.Errorf(http.StatusConflict, pc.CodeLineNotInParcel, "parcel %s holds no %s", parcelID, l.SKU).With(field)
		case l.Qty > n:
			return httpapi.Errorf(http.StatusConflict, pc.CodeQtyAboveParcel, "parcel %s holds %d of %s, %d refused", parcelID, n, l.SKU, l.Qty).With(field)
		}
	}
	return nil
}

// linesJSON is lines as a JSON column: NULL for none.
func linesJSON(lines []pc.ParcelLine) any {
	if len(lines) == 0 {
		return nil
	}
	b, _ := json.Marshal(lines)
	return b
}

func affected(res interface{ RowsAffected() (int64, error) }, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// advanceParcels moves parcels whose time has come: collected, then
// delivered or refused; and reports what changed to WMS.
func (s *Server) advanceParcels(ctx context.Context) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `UPDATE tms_parcels SET state=?, state_at=collect_due, next_report_at=? WHERE state=? AND collect_due <= ?`,
		pc.ParcelCollected, now, pc.ParcelImported, now); err != nil {
		return fmt.Errorf("collect parcels: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE tms_parcels SET state=outcome, state_at=end_due, next_report_at=? WHERE state=? AND end_due <= ?`,
		now, pc.ParcelCollected, now); err != nil {
		return fmt.Errorf("deliver parcels: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT parcel_id, state, report_attempts FROM tms_parcels
		WHERE next_report_at <= ? AND reported <> state AND state <> ? AND report_attempts < ? ORDER BY next_report_at LIMIT ?`,
		now, pc.ParcelImported, s.cfg.MaxAttempts, reportBatch)
	if err != nil {
		return fmt.Errorf("find reports due: %w", err)
	}
	type due struct {
		id, state string
		attempts  int
	}
	var dues []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.state, &d.attempts); err != nil {
			rows.Close()
			return err
		}
		dues = append(dues, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var errs []error
	for _, d := range dues {
		errs = append(errs, s.report(ctx, d.id, d.state, d.attempts))
	}
	return errors.Join(errs...)
}

// report sends one tracking report to WMS and records that it was taken,
// or when to try again.
func (s *Server) report(ctx context.Context, id, state string, attempts int) error {
	f, err := s.faultFor(ctx, "tms.reports")
	if err != nil {
		return err
	}
	if f.DropCallbacks {
		_, err := s.db.ExecContext(ctx, `UPDATE tms_parcels SET reported=state WHERE parcel_id=? AND state=?`, id, state)
		return err
	}
	sleepCtx(ctx, time.Duration(f.DelayMs)*time.Millisecond)
	if f.FailRate > 0 && s.rand() < f.FailRate {
		err = errors.New("injected fault tms.reports")
	} else {
		err = s.inv.Invoke(ctx, s.cfg.WMSApp, http.MethodPost, "v1/tms/parcels/"+id+"/reports", map[string]string{"parcel_id": id}, nil)
	}
	if err != nil {
		_, uerr := s.db.ExecContext(ctx, `UPDATE tms_parcels SET report_attempts=report_attempts+1, next_report_at=? WHERE parcel_id=?`,
			s.now().Add(retryAfter(attempts)), id)
		if uerr != nil {
			return uerr
		}
		s.log.Warn("TMS report not taken; retrying", "parcel", id, "state", state, "err", err)
		return nil
	}
	_, err = s.db.ExecContext(ctx, `UPDATE tms_parcels SET reported=?, report_attempts=0 WHERE parcel_id=? AND state=?`, state, id, state)
	return err
}
