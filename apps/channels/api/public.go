package api

import (
	"crypto/sha256"
	"encoding/hex"
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
// timestamp window, then the nonce (Yuedian's nonce, Ele.me's request
// id; Meituan's signature, which a replay repeats), then the order's
// format; only then is it staged. A repeat of a platform order,
// sequential or concurrent, gets the first arrival's answer. Nothing is
// written for a refused request.
//
// Meituan's signature is its only nonce, and its retry resends the same
// signed bytes: a signature seen before with the same content (the
// canonical form) is that retry and is answered like any repeat of the
// order (the first answer; staged now if the first attempt failed before
// staging it); seen before with other content it is a replay and refused.
// A resend past the window is stale like any request.

// MaxPushBytes bounds one pushed order.
const MaxPushBytes = 256 << 10

// MountPublic registers the push endpoints on r.
func MountPublic(r chi.Router, svc *app.Service, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	p := &pusher{svc: svc, log: log}
	r.Post(platforms.PushPathYuedian, p.yuedian)
	r.Post(platforms.PushPathMeituan, p.meituan)
	r.Post(platforms.PushPathEleme, p.eleme)
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
	canonical := sha256.Sum256([]byte(form.Encode())) // sorted, escaped: "a=1%26b%3D2" is not "a=1&b=2"
	fresh, resent, err := p.svc.ClaimSignature(r.Context(), platforms.Meituan, sig, hex.EncodeToString(canonical[:]))
	if err != nil {
		p.log.Warn("nonce store", "err", err)
		answer(http.StatusServiceUnavailable, platforms.MtServer, "try again", "")
		return
	}
	if !fresh && !resent {
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

func (p *pusher) eleme(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, code, msg, id string) {
		a := platforms.ElemeAnswer{Message: platforms.ElOK, AcceptID: id}
		if code != platforms.ElOK {
			a.Message, a.Code = msg, code
		}
		httpapi.WriteJSON(w, status, a)
	}
	body, err := readBody(r)
	if err != nil {
		answer(http.StatusRequestEntityTooLarge, platforms.ElMalformed, "body: "+err.Error(), "")
		return
	}
	// The signature is inside the envelope: it must parse to be checked.
	env, err := platforms.ParseElemePush(body)
	if err != nil {
		answer(http.StatusBadRequest, platforms.ElMalformed, err.Error(), "")
		return
	}
	k, ok := p.svc.Keys(platforms.Eleme)
	if !ok {
		answer(http.StatusServiceUnavailable, platforms.ElServer, "not configured", "")
		return
	}
	requestID, err := platforms.VerifyEleme(env, k, p.svc.Now(), p.svc.Window())
	switch {
	case errors.Is(err, platforms.ErrAppKey):
		answer(http.StatusUnauthorized, platforms.ElBadApp, err.Error(), "")
		return
	case errors.Is(err, platforms.ErrSignature):
		answer(http.StatusUnauthorized, platforms.ElBadSign, err.Error(), "")
		return
	case err != nil:
		answer(http.StatusUnauthorized, platforms.ElStale, err.Error(), "")
		return
	}
	fresh, err := p.svc.ClaimNonce(r.Context(), platforms.Eleme, requestID)
	if err != nil {
		p.log.Warn("nonce store", "err", err)
		answer(http.StatusServiceUnavailable, platforms.ElServer, "try again", "")
		return
	}
	if !fresh {
		answer(http.StatusConflict, platforms.ElReplayed, "requestId "+requestID+" was used", "")
		return
	}
	if env.Type != platforms.ElemeOrderEffective {
		// Ele.me pushes every message of an order's life and pushes again
		// what is not acknowledged; Harvest stages only new orders.
		p.log.Info("Ele.me message not staged", "type", env.Type, "request", requestID)
		answer(http.StatusOK, platforms.ElOK, "", "")
		return
	}
	o, err := platforms.ParseElemeOrder(env.Message, body)
	if err != nil {
		answer(http.StatusBadRequest, platforms.ElMalformed, err.Error(), "")
		return
	}
	acc, err := p.svc.Accept(r.Context(), o)
	if err != nil {
		p.log.Warn("stage an Ele.me order", "order", o.PlatformOrderID, "err", err)
		answer(http.StatusServiceUnavailable, platforms.ElServer, "try again", "")
		return
	}
	answer(http.StatusOK, platforms.ElOK, "", acc.ID)
}
