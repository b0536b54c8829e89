// Package httpapi is the wire convention between Harvest apps over Dapr
// service invocation: JSON bodies, and failures as a Problem with an HTTP
// status and a stable code, so a caller's client can turn it back into a
// typed error with errors.As.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Problem is a failure that crosses an app boundary.
type Problem struct {
	Status  int            `json:"-"`
	Code    string         `json:"code"`    // stable, e.g. OUT_OF_STOCK
	Message string         `json:"message"` // for people
	Details map[string]any `json:"details,omitempty"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%s: %s", p.Code, p.Message) }

// Is lets errors.Is match problems by code.
func (p *Problem) Is(target error) bool {
	t, ok := target.(*Problem)
	return ok && t.Code == p.Code
}

// Errorf builds a Problem.
func Errorf(status int, code, format string, args ...any) *Problem {
	return &Problem{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of p carrying details.
func (p *Problem) With(details map[string]any) *Problem {
	c := *p
	c.Details = details
	return &c
}

// Common codes.
const (
	CodeBadRequest = "BAD_REQUEST"
	CodeNotFound   = "NOT_FOUND"
	CodeInternal   = "INTERNAL"
	// CodeUnavailable: the request did not finish in time (its caller gave
	// up, or the service is overloaded); retrying with the same idempotency
	// key is safe.
	CodeUnavailable = "UNAVAILABLE"
	// CodeUnauthenticated: the caller did not prove who it is (an app's
	// sidecar-facing listener without the sidecar's token).
	CodeUnauthenticated = "UNAUTHENTICATED"
	// CodeBodyTooLarge: the request body is over the route's limit.
	CodeBodyTooLarge = "BODY_TOO_LARGE"
)

// BodyTooLarge is the Problem for a body over limit bytes.
func BodyTooLarge(limit int64) *Problem {
	return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the request body is larger than the %d bytes this route accepts", limit)
}

// BodyError turns an error met reading a request body into the Problem
// to answer: over the listener's limit (http.MaxBytesReader) is 413
// BODY_TOO_LARGE, anything else a malformed body.
func BodyError(err error) *Problem {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return BodyTooLarge(mb.Limit)
	}
	return Errorf(http.StatusBadRequest, CodeBadRequest, "malformed request body: %v", err)
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes err: a Problem as itself, anything else as an opaque
// 500 that is logged here (the caller must not log it again).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if errors.As(err, &p) {
		status := p.Status
		if status == 0 {
			status = http.StatusUnprocessableEntity
		}
		WriteJSON(w, status, p)
		return
	}
	if r.Context().Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		// The caller stopped waiting (under overload, its deadline passed
		// while this waited for a connection or a lock); whatever broke
		// broke because of that, so say so instead of a fault.
		slog.WarnContext(r.Context(), "request abandoned before it finished", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteJSON(w, http.StatusServiceUnavailable, &Problem{Code: CodeUnavailable, Message: "the request did not finish in time; retry with the same idempotency key"})
		return
	}
	slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	WriteJSON(w, http.StatusInternalServerError, &Problem{Code: CodeInternal, Message: "internal error"})
}

// Decode reads a JSON body into v, refusing unknown fields and oversize bodies.
func Decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BodyError(err)
	}
	return nil
}

// ReadProblem turns a non-2xx response into a Problem.
func ReadProblem(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	p := &Problem{Status: resp.StatusCode}
	if err := json.Unmarshal(body, p); err != nil || p.Code == "" {
		return fmt.Errorf("status %d: %s", resp.StatusCode, truncate(string(body), 300))
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// HasCode reports whether err is, or wraps, a Problem with code.
func HasCode(err error, code string) bool {
	var p *Problem
	return errors.As(err, &p) && p.Code == code
}
