package sim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// The risk service (Tongdun-like fraud score, stage 8). Its verdict is a
// function of the request and the rules in force when the order is first
// scored: the decision comes from the rules, so tests and demos can force
// one, and the score is a hash of customer and amount placed inside the
// decision's band, so it looks like a score and is the same every run. An
// order id scored again gets its first verdict, even after the rules
// changed, as a real risk service's stored decision would.

// RiskRules decide fraud verdicts. Reject rules win over review rules; an
// order no rule matches is accepted.
type RiskRules struct {
	// RejectCustomerPrefixes: customers whose id starts with one are rejected.
	RejectCustomerPrefixes []string `json:"reject_customer_prefixes"`
	// ReviewCustomerPrefixes: customers whose id starts with one are reviewed.
	ReviewCustomerPrefixes []string `json:"review_customer_prefixes"`
	// RejectAboveFen and ReviewAboveFen: amounts above them are rejected or
	// reviewed; 0 switches the rule off.
	RejectAboveFen int64 `json:"reject_above_fen"`
	ReviewAboveFen int64 `json:"review_above_fen"`
}

// DefaultRiskRules are the rules when none are configured: customers
// "FRAUD-…" are rejected, "REVIEW-…" reviewed.
func DefaultRiskRules() RiskRules {
	return RiskRules{RejectCustomerPrefixes: []string{"FRAUD-"}, ReviewCustomerPrefixes: []string{"REVIEW-"}}
}

func (r RiskRules) validate() error {
	if r.RejectAboveFen < 0 || r.ReviewAboveFen < 0 {
		return errors.New("thresholds must not be negative (0 switches a rule off)")
	}
	for _, p := range append(append([]string{}, r.RejectCustomerPrefixes...), r.ReviewCustomerPrefixes...) {
		if p == "" {
			return errors.New("an empty prefix would match every customer")
		}
	}
	return nil
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Score bands per decision: ACCEPT 0..59, REVIEW 60..84, REJECT 85..100.
var riskBands = map[string][2]int{pc.FraudAccept: {0, 59}, pc.FraudReview: {60, 84}, pc.FraudReject: {85, 100}}

// Verdict scores f under the rules.
func (r RiskRules) Verdict(f pc.FraudRequest) pc.FraudVerdict {
	decision := pc.FraudAccept
	switch {
	case hasPrefix(f.CustomerID, r.RejectCustomerPrefixes), r.RejectAboveFen > 0 && int64(f.AmountFen) > r.RejectAboveFen:
		decision = pc.FraudReject
	case hasPrefix(f.CustomerID, r.ReviewCustomerPrefixes), r.ReviewAboveFen > 0 && int64(f.AmountFen) > r.ReviewAboveFen:
		decision = pc.FraudReview
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(f.CustomerID + "|" + strconv.FormatInt(int64(f.AmountFen), 10)))
	band := riskBands[decision]
	return pc.FraudVerdict{Score: band[0] + int(h.Sum64()%uint64(band[1]-band[0]+1)), Decision: decision}
}

// CurrentRiskRules are the rules set at run time, else the configured
// ones; read at most every faultsFresh.
func (s *Server) CurrentRiskRules(ctx context.Context) (RiskRules, error) {
	return s.risk.Get(ctx, s.readRiskRules)
}

func (s *Server) readRiskRules(ctx context.Context) (RiskRules, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM risk_rules WHERE id=1`).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return s.cfg.Risk, nil
	}
	if err != nil {
		return RiskRules{}, err
	}
	var r RiskRules
	return r, json.Unmarshal(b, &r)
}

// SetRiskRules replaces the rules in force (kept across restarts).
func (s *Server) SetRiskRules(ctx context.Context, r RiskRules) error {
	if err := r.validate(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO risk_rules (id, body, updated_at) VALUES (1,?,?)
		ON DUPLICATE KEY UPDATE body=VALUES(body), updated_at=VALUES(updated_at)`, b, s.now())
	s.risk.Forget()
	return err
}

func (s *Server) riskScore() http.HandlerFunc {
	return serve(s, APIRisk, func(f *pc.FraudRequest) error {
		if err := firstErr(idField("order_id", f.OrderID), idField("customer_id", f.CustomerID)); err != nil {
			return err
		}
		if f.AmountFen < 0 {
			return rejected("amount_fen", "amount_fen must not be negative, got %d", f.AmountFen)
		}
		if f.Phone != "" {
			return contactPhone("phone", f.Phone)
		}
		return nil
	}, func(f *pc.FraudRequest) (string, string) { return f.OrderID, f.OrderID },
		func(ctx context.Context, f *pc.FraudRequest, _ int64) (pc.FraudVerdict, error) {
			rules, err := s.CurrentRiskRules(ctx)
			if err != nil {
				return pc.FraudVerdict{}, err
			}
			return rules.Verdict(*f), nil
		}, nil)
}

func (s *Server) riskRulesGet(w http.ResponseWriter, r *http.Request) {
	rules, err := s.CurrentRiskRules(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, rules)
}

func (s *Server) riskRulesSet(w http.ResponseWriter, r *http.Request) {
	var rules RiskRules
	if err := httpapi.Decode(r, &rules); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if err := s.SetRiskRules(r.Context(), rules); err != nil {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusBadRequest, httpapi.CodeBadRequest, "%v", err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, rules)
}

// riskRulesClear returns to the configured rules.
func (s *Server) riskRulesClear(w http.ResponseWriter, r *http.Request) {
	_, err := s.db.ExecContext(r.Context(), `DELETE FROM risk_rules`)
	s.risk.Forget()
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
