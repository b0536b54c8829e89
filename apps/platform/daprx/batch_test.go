package daprx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/obs"
	"github.com/harvest/harvest/apps/platform/obs/obstest"
)

// fakeSidecar forwards /v1.0/invoke/<app>/method/<path> to the callee's
// router, as daprd would, and counts the invocations it carried.
type fakeSidecar struct {
	callee      http.Handler
	invocations atomic.Int64
	// invocations carried at once now, and at most
	open, maxOpen atomic.Int64
}

func (f *fakeSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/v1.0/invoke/callee/method"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		http.NotFound(w, r)
		return
	}
	f.invocations.Add(1)
	n := f.open.Add(1)
	defer f.open.Add(-1)
	for m := f.maxOpen.Load(); n > m && !f.maxOpen.CompareAndSwap(m, n); m = f.maxOpen.Load() {
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	r2.RequestURI = ""
	f.callee.ServeHTTP(w, r2)
}

// callee echoes n back doubled, refuses odd n with a Problem, and holds
// each call a little so concurrent callers queue.
func callee(calls *atomic.Int64) *chi.Mux {
	mux := chi.NewRouter()
	mux.Use(obs.Routes) // as runtime.App's router does
	mux.Post("/v1/double", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct{ N int }
		if err := httpapi.Decode(r, &in); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		time.Sleep(2 * time.Millisecond)
		if in.N%2 == 1 {
			httpapi.WriteError(w, r, &httpapi.Problem{Status: http.StatusConflict, Code: "ODD", Message: strconv.Itoa(in.N) + " is odd"})
			return
		}
		httpapi.WriteJSON(w, http.StatusCreated, map[string]int{"n": 2 * in.N})
	})
	mux.Post("/v1/secret", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"secret": "x"})
	})
	mux.Post("/"+BatchPath, BatchHandler(mux, Route(http.MethodPost, "v1/double")))
	return mux
}

func newInvoker(t *testing.T, h http.Handler) *Invoker {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	return NewInvoker(port)
}

func TestBatchedCallsKeepTheirOwnAnswers(t *testing.T) {
	var handled atomic.Int64
	sc := &fakeSidecar{callee: callee(&handled)}
	inv := newInvoker(t, sc)
	inv.Batch("callee", Route(http.MethodPost, "v1/double"))

	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ N int }
			err := inv.Invoke(context.Background(), "callee", http.MethodPost, "v1/double", map[string]int{"n": i}, &out)
			switch {
			case i%2 == 1:
				var p *httpapi.Problem
				if !errors.As(err, &p) || p.Code != "ODD" || p.Status != http.StatusConflict || p.Message != fmt.Sprintf("%d is odd", i) {
					errs <- fmt.Errorf("call %d: got %v, want its own ODD problem", i, err)
				}
			case err != nil:
				errs <- fmt.Errorf("call %d: %v", i, err)
			case out.N != 2*i:
				errs <- fmt.Errorf("call %d answered %d", i, out.N)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if handled.Load() != n {
		t.Fatalf("callee ran %d calls, want %d", handled.Load(), n)
	}
	if got := sc.invocations.Load(); got >= n/2 {
		t.Fatalf("%d invocations carried %d concurrent calls: not batched", got, n)
	}
	t.Logf("%d calls in %d invocations", n, sc.invocations.Load())
}

// doubleAll has n callers double even numbers at once, or one every gap,
// each checking its own answer.
func doubleAll(t *testing.T, inv *Invoker, n int, gap time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ N int }
			if err := inv.Invoke(context.Background(), "callee", http.MethodPost, "v1/double", map[string]int{"n": 2 * i}, &out); err != nil || out.N != 4*i {
				t.Errorf("call %d: %v %d", i, err, out.N)
			}
		}()
		time.Sleep(gap)
	}
	wg.Wait()
}

// Batch keeps up to two batches in flight for latency; BatchForThroughput
// one, so the calls queued meanwhile make fewer, larger batches;
// BatchInFlight as many as it is told.
func TestBatchesInFlight(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(inv *Invoker, route string)
		max   int64
	}{
		{"latency", func(inv *Invoker, r string) { inv.Batch("callee", r) }, batchesInFlight},
		{"throughput", func(inv *Invoker, r string) { inv.BatchForThroughput("callee", r) }, 1},
		{"six", func(inv *Invoker, r string) { inv.BatchInFlight("callee", 6, r) }, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			var handled atomic.Int64
			sc := &fakeSidecar{callee: callee(&handled)}
			inv := newInvoker(t, sc)
			c.setup(inv, Route(http.MethodPost, "v1/double"))
			const n = 600
			doubleAll(t, inv, n, 0)
			if got := sc.maxOpen.Load(); got > c.max || got < 1 {
				t.Errorf("%d batches in flight at once, want at most %d", got, c.max)
			}
			if handled.Load() != n {
				t.Errorf("callee ran %d calls, want %d", handled.Load(), n)
			}
			t.Logf("%d calls in %d invocations, at most %d at once", n, sc.invocations.Load(), sc.maxOpen.Load())
		})
	}
}

// A throughput batch lingers for calls that arrive one after another;
// without it each would be a batch of its own.
func TestThroughputBatchLingers(t *testing.T) {
	var handled atomic.Int64
	sc := &fakeSidecar{callee: callee(&handled)}
	inv := newInvoker(t, sc)
	inv.BatchForThroughput("callee", Route(http.MethodPost, "v1/double"))
	const n, gap = 30, 3 * time.Millisecond // longer than the callee's 2 ms: without a linger each call goes alone
	doubleAll(t, inv, n, gap)
	if got := sc.invocations.Load(); got > n/3 {
		t.Errorf("%d calls %v apart took %d invocations; lingering batches should carry several each", n, gap, got)
	}
}

func TestBatchRunsOnlyAllowedRoutes(t *testing.T) {
	var handled atomic.Int64
	inv := newInvoker(t, &fakeSidecar{callee: callee(&handled)})
	var out batchResponse
	err := inv.Invoke(context.Background(), "callee", http.MethodPost, BatchPath, batchRequest{Calls: []BatchCall{
		{Method: http.MethodPost, Path: "v1/secret", Body: json.RawMessage(`{}`)},
		{Method: http.MethodPost, Path: "v1/double", Body: json.RawMessage(`{"n":2}`)},
	}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 2 || out.Results[0].Status != http.StatusForbidden || out.Results[1].Status != http.StatusCreated {
		t.Fatalf("results = %+v", out.Results)
	}
	if handled.Load() != 1 {
		t.Fatalf("callee ran %d calls, want only the allowed one", handled.Load())
	}
	err = inv.Invoke(context.Background(), "callee", http.MethodPost, BatchPath, batchRequest{}, nil)
	if !httpapi.HasCode(err, "INVALID_BATCH") {
		t.Fatalf("empty batch = %v, want INVALID_BATCH", err)
	}
}

func TestBatchFailureFailsEachCall(t *testing.T) {
	// A sidecar that cannot reach the callee answers every invocation 500.
	inv := newInvoker(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		http.Error(w, `{"errorCode":"ERR_DIRECT_INVOKE"}`, http.StatusInternalServerError)
	}))
	inv.Batch("callee", Route(http.MethodPost, "v1/double"))
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := inv.Invoke(context.Background(), "callee", http.MethodPost, "v1/double", map[string]int{"n": i}, nil); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 50 {
		t.Fatalf("%d of 50 calls failed, want all", failed.Load())
	}
}

func TestBatchedCallerStopsWaitingOnItsContext(t *testing.T) {
	block := make(chan struct{})
	inv := newInvoker(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-block
		w.WriteHeader(http.StatusOK)
	}))
	defer close(block)
	inv.Batch("callee", Route(http.MethodPost, "v1/double"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := inv.Invoke(ctx, "callee", http.MethodPost, "v1/double", map[string]int{"n": 2}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("got %v after %v, want the caller's deadline", err, time.Since(start))
	}
}

// TestBatchedCallsAreCountedAndTimedPerRoute: the sidecars see one
// invocation of v1/batch, but every call a batch carried is counted and
// timed under its own route, by the callee's router and by the caller.
func TestBatchedCallsAreCountedAndTimedPerRoute(t *testing.T) {
	var handled atomic.Int64
	sc := &fakeSidecar{callee: callee(&handled)}
	inv := newInvoker(t, sc)
	inv.Batch("callee", Route(http.MethodPost, "v1/double"))
	served := func(route, status string) (uint64, float64) {
		return obstest.Histogram(t, "harvest_http_request_seconds", map[string]string{"route": route, "status": status})
	}
	called := func() (uint64, float64) {
		return obstest.Histogram(t, "harvest_invoke_batched_seconds", map[string]string{"app": "callee", "route": "POST v1/double", "status": "201"})
	}
	doubles0, _ := served("POST /v1/double", "201")
	batches0, _ := served("POST /v1/batch", "200")
	calls0, _ := called()

	const n = 200
	doubleAll(t, inv, n, 0)

	doubles, doubleSecs := served("POST /v1/double", "201")
	batches, _ := served("POST /v1/batch", "200")
	calls, callSecs := called()
	if got := doubles - doubles0; got != n {
		t.Errorf("callee counted %d calls of POST /v1/double, want all %d, batched or not", got, n)
	}
	if doubleSecs <= 0 || callSecs <= 0 {
		t.Errorf("calls not timed: callee %.6fs, caller %.6fs", doubleSecs, callSecs)
	}
	if got := calls - calls0; got != n {
		t.Errorf("caller counted %d calls of POST v1/double, want %d", got, n)
	}
	invocations := uint64(sc.invocations.Load())
	if b := batches - batches0; b == 0 || b >= n || b > invocations {
		t.Errorf("%d batches counted for %d invocations of %d calls: the calls did not travel in batches", b, invocations, n)
	}
	t.Logf("%d calls in %d invocations, %d of them batches", n, invocations, batches-batches0)
}
