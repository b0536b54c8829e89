package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// The outside systems fulfillment calls (partnersclient): SMS, push,
// finance payment vouchers, fraud scores, presale purchasing, TMS
// waybills, invoicing and drop-ship suppliers. They share one behaviour,
// the one their real counterparts have and the one fulfillment relies on
// to run a stage twice without harm:
//
//   - each API takes its configured latency (Config.Latency, with jitter)
//     and obeys its fault switch (POST /admin/faults, by the API's name
//     such as "tms.waybills" or its family such as "tms");
//   - bad input is refused with 400 and a Problem coded
//     partnersclient.CodeRejected before anything is recorded;
//   - every request is recorded once by its caller's id in
//     partner_requests, with the answer given the first time; a repeat
//     counts a delivery and gets that answer again, marked duplicate;
//   - GET /admin/received?api=sms&ref=<order or delivery order> shows what
//     arrived and how many times, so tests can assert "sent once".

// API names, used by fault switches, latency and /admin/received.
const (
	APISMS       = "sms.messages"
	APIPush      = "push.messages"
	APIVoucher   = "fms.payment_vouchers"
	APIRisk      = "risk.scores"
	APIPresale   = "presale.orders"
	APIWaybill   = "tms.waybills"
	APIInvoice   = "invoice.invoices"
	APISuppliers = "suppliers.orders"
	// The reverse flow's: return pickups at TMS, refund vouchers at finance.
	APIPickup        = "tms.pickups"
	APIRefundVoucher = "fms.refund_vouchers"
)

// mountOutsideAPIs registers the outside APIs themselves (not their admin
// routes): on the sidecar-facing router (callers that name the app id
// "partners") and on the public one, behind the partner key (MountPublic).
func (s *Server) mountOutsideAPIs(r chi.Router) {
	r.Post("/sms/v1/messages", s.smsSend())
	r.Post("/bi/v1/audiences/export", s.biExport)
	r.Post("/push/v1/messages", s.pushSend())
	r.Post("/fms/v1/payment-vouchers", s.voucherPush())
	r.Post("/risk/v1/scores", s.riskScore())
	r.Post("/presale/v1/orders", s.presalePush())
	r.Post("/tms/v1/waybills", s.tmsWaybill())
	r.Post("/invoice/v1/invoices", s.invoiceIssue())
	r.Post("/suppliers/v1/orders", s.supplierOrder())
	r.Post("/tms/v1/pickups", s.tmsPickup())
	r.Post("/fms/v1/refund-vouchers", s.refundVoucher())
	s.mountTMSParcels(r)
	s.mountERP(r)
	s.mountReverseAPIs(r)
}

func (s *Server) mountOutside(r chi.Router) {
	s.mountOutsideAPIs(r)
	r.Get("/admin/received", s.adminReceived)
	r.Post("/admin/suppliers/orders/{id}/ship", s.adminSupplierShip)
	r.Get("/admin/risk-rules", s.riskRulesGet)
	r.Post("/admin/risk-rules", s.riskRulesSet)
	r.Delete("/admin/risk-rules", s.riskRulesClear)
}

// family is the part of an API name before its first dot ("tms").
func family(api string) string {
	f, _, _ := strings.Cut(api, ".")
	return f
}

// faultFor reads the fault switch for api: one set for the exact name wins
// over one set for its family.
func (s *Server) faultFor(ctx context.Context, api string) (Fault, error) {
	f, err := s.fault(ctx, api)
	if err != nil || f.DelayMs != 0 || f.FailRate != 0 || f.DropCallbacks {
		return f, err
	}
	ff, err := s.fault(ctx, family(api))
	ff.Name = api
	return ff, err
}

// latency is api's configured answer time with ±20% jitter, so a stage's
// calls do not all finish in lock step.
func (s *Server) latency(api string) time.Duration {
	d, ok := s.cfg.Latency[api]
	if !ok {
		d = s.cfg.Latency[family(api)]
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * (0.8 + 0.4*s.rand()))
}

// enter is what every outside API does first: take its time, then apply
// its fault switch. False means the request was answered (503 UNAVAILABLE,
// or an error reading the switch) and must not be processed.
func (s *Server) enter(w http.ResponseWriter, r *http.Request, api string) bool {
	sleepCtx(r.Context(), s.latency(api))
	f, err := s.faultFor(r.Context(), api)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return false
	}
	sleepCtx(r.Context(), time.Duration(f.DelayMs)*time.Millisecond)
	if f.FailRate > 0 && s.rand() < f.FailRate {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusServiceUnavailable, partnersclient.CodeUnavailable, "%s is unavailable (injected fault)", api))
		return false
	}
	if err := r.Context().Err(); err != nil {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusServiceUnavailable, partnersclient.CodeUnavailable, "%s: request abandoned: %v", api, err))
		return false
	}
	return true
}

// rejected is the 400 answer to bad input.
func rejected(field, format string, args ...any) *httpapi.Problem {
	return httpapi.Errorf(http.StatusBadRequest, partnersclient.CodeRejected, format, args...).With(map[string]any{"field": field})
}

// decodeStrict reads a JSON body into v, refusing unknown fields (a
// caller sending a field the partner does not know is a contract drift
// worth hearing about) and trailing data.
func decodeStrict(r *http.Request, v any) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return nil, rejected("body", "unreadable request body: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, rejected("body", "malformed request body: %v", err)
	}
	if dec.More() {
		return nil, rejected("body", "trailing data after the JSON body")
	}
	return body, nil
}

// request is one validated call to record.
type request struct {
	api  string
	id   string // the caller's idempotency id
	ref  string // the order or delivery order it concerns
	body []byte
}

// receive records req once. The first time it stores the answer first
// builds from the partner's next sequence number (unique over all APIs and
// restarts); a repeat counts a delivery (and whether the body changed) and
// returns the stored answer with dup true. The answer is built before the
// row is written, so that recording is one statement: first must have no
// effect beyond its answer, which is discarded when the request turns out
// to be a repeat (its number is then a gap). Requests arriving together
// are recorded together (record.go).
func (s *Server) receive(ctx context.Context, req request, first func(seq int64) (any, error)) (answer []byte, dup bool, err error) {
	seq, err := s.nextSeq(ctx)
	if err != nil {
		return nil, false, err
	}
	out, err := first(seq)
	if err != nil {
		return nil, false, err
	}
	if answer, err = json.Marshal(out); err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(req.body)
	r := &recordReq{request: req, seq: seq, sha: hex.EncodeToString(sum[:]), at: s.now(), answer: answer}
	if err := s.records.Write(ctx, r); err != nil {
		return nil, false, err
	}
	return r.answer, r.dup, nil
}

// serve runs one outside API: enter, decode into T, validate, record once,
// answer. key names the caller's id and the reference; first builds the
// first answer; markDup flags a repeated answer.
func serve[T, R any](s *Server, api string, validate func(*T) error, key func(*T) (id, ref string),
	first func(ctx context.Context, in *T, seq int64) (R, error), markDup func(*R)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.enter(w, r, api) {
			return
		}
		var in T
		body, err := decodeStrict(r, &in)
		if err == nil {
			err = validate(&in)
		}
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		id, ref := key(&in)
		raw, dup, err := s.receive(r.Context(), request{api: api, id: id, ref: ref, body: body}, func(seq int64) (any, error) {
			return first(r.Context(), &in, seq)
		})
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		var out R
		if err := json.Unmarshal(raw, &out); err != nil {
			httpapi.WriteError(w, r, fmt.Errorf("stored answer of %s %s: %w", api, id, err))
			return
		}
		if dup && markDup != nil {
			markDup(&out)
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
	}
}

// Received is one request an outside API recorded, as the inspection
// endpoint shows it.
type Received struct {
	API        string          `json:"api"`
	ID         string          `json:"id"`
	Ref        string          `json:"ref"`
	Deliveries int             `json:"deliveries"` // 1 + the repeats
	Changed    int             `json:"changed"`    // repeats whose body differed from the first
	FirstAt    time.Time       `json:"first_at"`
	LastAt     time.Time       `json:"last_at"`
	Body       json.RawMessage `json:"body"`
	Result     json.RawMessage `json:"result"`
}

// ReceivedFor lists what the outside APIs recorded about ref: requests
// whose reference or id is ref, and those of its delivery orders
// ("<ref>-<n>") and messages ("<ref>:…"). api, when given, is an API name
// ("tms.waybills") or family ("sms").
func (s *Server) ReceivedFor(ctx context.Context, api, ref string) ([]Received, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(ref)
	q := `SELECT api, request_id, ref, deliveries, changed, first_at, last_at, body, result FROM partner_requests
		WHERE (ref=? OR request_id=? OR ref LIKE ? OR request_id LIKE ?)`
	args := []any{ref, ref, esc + "-%", esc + ":%"}
	if api != "" {
		q += ` AND (api=? OR api LIKE ?)`
		args = append(args, api, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(api)+".%")
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Received{}
	for rows.Next() {
		var x Received
		var body, result []byte
		if err := rows.Scan(&x.API, &x.ID, &x.Ref, &x.Deliveries, &x.Changed, &x.FirstAt, &x.LastAt, &body, &result); err != nil {
			return nil, err
		}
		x.Body, x.Result = body, result
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Server) adminReceived(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusBadRequest, httpapi.CodeBadRequest, "ref (an order, delivery order or message id) is required"))
		return
	}
	list, err := s.ReceivedFor(r.Context(), r.URL.Query().Get("api"), ref)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
}
