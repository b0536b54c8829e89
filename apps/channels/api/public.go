package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// The push endpoints, one per push platform, on channels' public
// listener: marketplaces run no sidecar and authenticate by their own
// signature. Each request is checked in the same order: app key and
// signature first (an unsigned caller cannot burn nonces), then the
// timestamp window, then the nonce (Yuedian's nonce; Meituan's
// signature, which a replay repeats), then the order's format; only then
// is it staged. A repeat of a platform order, sequential or concurrent,
// gets the first arrival's answer. Nothing is written for a refused
// request.

// MaxPushBytes bounds one pushed order.
const MaxPushBytes = 256 << 10

// MountPublic registers the push endpoints on r.
func MountPublic(r chi.Router, svc *app.Service, log *slog.Logger) {
	p := &pusher{svc: svc, log: log}
	r.Post(platforms.PushPathYuedian, p.yuedian)
	r.Post(platforms.PushPathMeituan, p.meituan)
}

type pusher struct {
	svc *app.Service
	log *slog.Logger
}

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxPushBytes))
}

func (p *pusher) yuedian(w http.ResponseWriter, r *http.Request) {
	answer := func(status, code int, msg, id string) {
		a := platforms.YuedianAnswer{Code: code, Message: msg}
		if id != "" {
			a.Data = &struct {
				AcceptID string `json:"accept_id"`
			}{id}
		}
		httpapi.WriteJSON(w, status, a)
	}
	body, err := readBody(r)
	if err != nil {
		answer(http.StatusRequestEntityTooLarge, platforms.YdMalformed, "body: "+err.Error(), "")
		return
	}
	k, ok := p.svc.Keys(platforms.Yuedian)
	if !ok {
		answer(http.StatusServiceUnavailable, platforms.YdServerError, "not configured", "")
		return
	}
	nonce, err := platforms.VerifyYuedian(r.Header, body, k, p.svc.Now(), p.svc.Window())
	switch {
	case errors.Is(err, platforms.ErrAppKey):
		answer(http.StatusUnauthorized, platforms.YdBadAppKey, err.Error(), "")
		return
	case errors.Is(err, platforms.ErrSignature):
		answer(http.StatusUnauthorized, platforms.YdBadSign, err.Error(), "")
		return
	case err != nil:
		answer(http.StatusUnauthorized, platforms.YdStale, err.Error(), "")
		return
	}
	fresh, err := p.svc.ClaimNonce(r.Context(), platforms.Yuedian, nonce)
	if err != nil {
		p.log.Warn("nonce store", "err", err)
		answer(http.StatusServiceUnavailable, platforms.YdServerError, "try again", "")
		return
	}
	if !fresh {
		answer(http.StatusConflict, platforms.YdReplayed, "nonce "+nonce+" was used", "")
		return
	}
	o, err := platforms.ParseYuedian(body)
	if err != nil {
		answer(http.StatusBadRequest, platforms.YdMalformed, err.Error(), "")
		return
	}
	acc, err := p.svc.Accept(r.Context(), o)
	if err != nil {
		p.log.Warn("stage a Yuedian order", "order", o.PlatformOrderID, "err", err)
		answer(http.StatusServiceUnavailable, platforms.YdServerError, "try again", "")
		return
	}
	answer(http.StatusOK, platforms.YdOK, "success", acc.ID)
}

func (p *pusher) meituan(w http.ResponseWriter, r *http.Request) {
	answer := func(status, code int, msg, id string) {
		a := platforms.MeituanAnswer{Data: "ok", AcceptID: id}
		if code != 0 {
			a.Data = "ng"
			a.Error = &struct {
				Code int    `json:"code"`
				Msg  string `json:"msg"`
			}{code, msg}
		}
		httpapi.WriteJSON(w, status, a)
	}
	body, err := readBody(r)
	if err != nil {
		answer(http.StatusRequestEntityTooLarge, platforms.MtMalformed, "body: "+err.Error(), "")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		answer(http.StatusBadRequest, platforms.MtMalformed, "not a form: "+err.Error(), "")
		return
	}
	k, ok := p.svc.Keys(platforms.Meituan)
	if !ok {
		answer(http.StatusServiceUnavailable, platforms.MtServer, "not configured", "")
		return
	}
	sig, err := platforms.VerifyMeituan(form, platforms.PushPathMeituan, k, p.svc.Now(), p.svc.Window())
	switch {
	case errors.Is(err, platforms.ErrAppKey):
		answer(http.StatusUnauthorized, platforms.MtBadAppID, err.Error(), "")
		return
	case errors.Is(err, platforms.ErrSignature):
		answer(http.StatusUnauthorized, platforms.MtBadSign, err.Error(), "")
		return
	case err != nil:
		answer(http.StatusUnauthorized, platforms.MtStale, err.Error(), "")
		return
	}
	fresh, err := p.svc.ClaimNonce(r.Context(), platforms.Meituan, sig)
	if err != nil {
		p.log.Warn("nonce store", "err", err)
		answer(http.StatusServiceUnavailable, platforms.MtServer, "try again", "")
		return
	}
	if !fresh {
		answer(http.StatusConflict, platforms.MtReplayed, "request replayed", "")
		return
	}
	o, err := platforms.ParseMeituan(form, body)
	if err != nil {
		answer(http.StatusBadRequest, platforms.MtMalformed, err.Error(), "")
		return
	}
	acc, err := p.svc.Accept(r.Context(), o)
	if err != nil {
		p.log.Warn("stage a Meituan order", "order", o.PlatformOrderID, "err", err)
		answer(http.StatusServiceUnavailable, platforms.MtServer, "try again", "")
		return
	}
	answer(http.StatusOK, 0, "", acc.ID)
}
