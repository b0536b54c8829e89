package sim

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// The cashier (收银台) pages of both channels: GET shows the trade, POST
// …/pay is the customer paying. ?ignore_expire=true makes the channel
// accept a payment after time_expire, to simulate a channel that ignores
// it (DOMAIN 1.4 case 4).

func (s *Server) cashierView(t ctrade) map[string]any {
	return map[string]any{"channel": t.Channel, "out_trade_no": t.OutTradeNo, "channel_trade_no": t.ChannelTradeNo,
		"subject": t.Subject, "amount_fen": t.AmountFen, "amount_yuan": yuan(t.AmountFen), "status": t.Status,
		"time_expire": t.TimeExpire, "paid_at": t.PaidAt, "refunded_fen": t.RefundedFen,
		"pay_url": s.cfg.PublicURL + "/cashier/" + t.Channel + "/" + t.OutTradeNo + "/pay"}
}

func (s *Server) cashierShow(w http.ResponseWriter, r *http.Request) {
	t, err := s.getTrade(r.Context(), chi.URLParam(r, "channel"), chi.URLParam(r, "no"))
	if err != nil {
		writeCashierErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.cashierView(t))
}

func (s *Server) cashierPay(w http.ResponseWriter, r *http.Request) {
	if s.injectFault(w, r, "cashier.pay") {
		return
	}
	t, err := s.payTrade(r.Context(), chi.URLParam(r, "channel"), chi.URLParam(r, "no"), r.URL.Query().Get("ignore_expire") == "true")
	if err != nil {
		writeCashierErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.cashierView(t))
}

func writeCashierErr(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoTrade):
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusNotFound, "TRADE_NOT_EXIST", "%v", err))
	case errors.Is(err, errExpired):
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, "TRADE_EXPIRED", "%v", err))
	case errors.Is(err, errPaid):
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, "ALREADY_PAID", "%v", err))
	case errors.Is(err, errClosed):
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusConflict, "TRADE_CLOSED", "%v", err))
	default:
		httpapi.WriteError(w, r, err)
	}
}
