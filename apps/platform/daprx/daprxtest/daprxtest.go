// Package daprxtest serves Dapr service invocation in process for tests:
// an app id names an http.Handler (the app's real router), and calls go
// through it with the same JSON and Problem conventions as daprx.Invoker.
package daprxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Local is an in-process invoker.
type Local struct {
	mu   sync.RWMutex
	apps map[string]http.Handler
}

// NewLocal returns an invoker with no apps.
func NewLocal() *Local { return &Local{apps: map[string]http.Handler{}} }

// Set serves app with h.
func (l *Local) Set(app string, h http.Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.apps[app] = h
}

// Invoke calls app's method with in as the JSON body, decoding the answer
// into out; a non-2xx answer is its Problem.
func (l *Local) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	l.mu.RLock()
	h, ok := l.apps[app]
	l.mu.RUnlock()
	if !ok {
		return fmt.Errorf("invoke %s/%s: no such app", app, method)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	// A nested call must not carry the caller's chi route context.
	req := httptest.NewRequestWithContext(context.WithValue(ctx, chi.RouteCtxKey, nil), httpMethod, "/"+method, body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return httpapi.ReadProblem(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
