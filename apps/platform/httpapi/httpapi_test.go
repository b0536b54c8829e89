package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// A failure of a request whose caller stopped waiting is UNAVAILABLE (503,
// retryable), not an internal fault; other failures stay INTERNAL.
func TestWriteErrorTellsAbandonedFromFaults(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		ctx    context.Context
		err    error
		status int
		code   string
	}{
		{context.Background(), errors.New("disk on fire"), http.StatusInternalServerError, httpapi.CodeInternal},
		{cancelled, errors.New("lock x: invalid connection"), http.StatusServiceUnavailable, httpapi.CodeUnavailable},
		{context.Background(), context.DeadlineExceeded, http.StatusServiceUnavailable, httpapi.CodeUnavailable},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/orders", nil).WithContext(c.ctx)
		httpapi.WriteError(rec, req, c.err)
		var p httpapi.Problem
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if rec.Code != c.status || p.Code != c.code {
			t.Fatalf("%v: %d %s, want %d %s", c.err, rec.Code, p.Code, c.status, c.code)
		}
	}
}
