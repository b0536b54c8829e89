package daprx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Batched invocation.
//
// Every service invocation costs both sidecars and both apps a fixed
// amount of work (HTTP in and out of each sidecar, gRPC between them,
// metrics, resiliency) on top of what the call itself does; on the hot
// path of placing an order that fixed cost was a third of all CPU. Under
// load, calls of the same route to the same app therefore travel together:
// the caller's Invoker queues them and sends whatever has queued while its
// few batches in flight were busy as one invocation of the callee's
// BatchPath, and the callee runs each call through its own router, as if
// it had come alone, and answers every status and body. When calls are
// few each still goes alone at once, so batching adds no latency; it only
// grows with the queue.
//
// What a call sees does not change: the same handler, the same Problem on
// failure, its own context for how long it waits. Nor what operators see:
// the sidecars see one invocation of BatchPath, but each call is still
// counted and timed under its own route, by the caller
// (harvest_invoke_batched_seconds) and by the callee, whose router serves
// it as a request of its own (obs.Routes). A batch that fails as a
// whole (the sidecar or the callee down) fails each of its calls, like a
// failed invocation; the routes batched carry idempotency keys or are
// idempotent by id, so a retry is safe either way. The callee runs only
// the routes it allowed (AllowBatch), so a batch cannot reach a method
// that Dapr's access control would refuse on its own.

// The queueing is package group's (a detached group.Queue per route):
// calls queue while the batches in flight are busy, and each batch is
// sent from a goroutine of its own, so a caller can stop waiting on its
// own context at any moment.

// BatchPath is the method every app that allows batching serves.
const BatchPath = "v1/batch"

const (
	// maxBatch bounds the calls of one batch (and the body's size).
	maxBatch = 64
	// batchesInFlight is how many batches to one app may be in flight
	// before calls queue; what queues meanwhile forms the next batch. At
	// 1,000 placements/s, 2 gave the lowest latency (1 queued too long,
	// 4 made smaller batches for the same CPU).
	batchesInFlight = 2
)

var (
	batchSize = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "harvest_invoke_batch_calls",
		Help:    "Calls per invocation sent by a batching Invoker (1 = sent alone).",
		Buckets: group.SizeBuckets,
	}, []string{"app"})
	batchedCallSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "harvest_invoke_batched_seconds",
		Help:    "Calls of batched routes, by callee, route and status (error: no answer), and how long each waited for its answer, queueing included.",
		Buckets: prometheus.DefBuckets,
	}, []string{"app", "route", "status"})
)

// BatchCall is one call inside a batch: a route of the callee and its JSON
// body.
type BatchCall struct {
	Method string          `json:"method"`
	Path   string          `json:"path"` // as passed to Invoke, e.g. "v1/orders"
	Body   json.RawMessage `json:"body,omitempty"`
}

// BatchResult is one call's answer, in the order of the calls.
type BatchResult struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body,omitempty"`
}

type batchRequest struct {
	Calls []BatchCall `json:"calls"`
}

type batchResponse struct {
	Results []BatchResult `json:"results"`
}

// Route names a batchable route: "POST v1/orders".
func Route(method, path string) string { return method + " " + path }

// Batch makes concurrent calls of routes to app travel in batches (see
// above), latency first: up to batchesInFlight batches at once. The callee
// must allow the same routes with AllowBatch.
func (i *Invoker) Batch(app string, routes ...string) { i.batch(app, batchesInFlight, 0, routes) }

// BatchInFlight is Batch with up to inFlight batches at once, for a
// caller whose calls come in bursts far larger than a batch and wait on
// how many go through (channels ordering a group buy's plans through
// OMS): with 2 in flight its ordering was bound by the round trip of two
// batches, the callee's CPU mostly idle. Each call still goes at once
// when calls are few.
func (i *Invoker) BatchInFlight(app string, inFlight int, routes ...string) {
	i.batch(app, max(1, inFlight), 0, routes)
}

// BatchForThroughput is Batch for background work that waits on how many
// calls go through rather than on how long one takes (fulfillment's
// stages): one batch in flight, and a batch waits up to throughputLinger
// for more calls to join it, so each batch's fixed cost in both sidecars,
// both apps and the callee's transaction is spread over more calls. On
// the fulfillment backlog run one batch in flight took CPU per order from
// 7.7 to 7.3 ms, and the linger to 6.9 ms; on the placing path (Batch)
// either would lengthen the queue a customer waits in.
func (i *Invoker) BatchForThroughput(app string, routes ...string) {
	i.batch(app, 1, throughputLinger, routes)
}

// throughputLinger is how long a throughput batch waits to fill.
const throughputLinger = 20 * time.Millisecond

func (i *Invoker) batch(app string, inFlight int, linger time.Duration, routes []string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.batchers == nil {
		i.batchers = map[string]*batcher{}
	}
	for _, r := range routes {
		if _, ok := i.batchers[app+" "+r]; !ok {
			b := &batcher{inv: i, app: app, route: r}
			b.q = group.NewQueue[*pendingCall](group.Options{MaxSize: maxBatch, InFlight: inFlight,
				Linger: linger, LingerAlways: true, Detach: true})
			i.batchers[app+" "+r] = b
		}
	}
}

func (i *Invoker) batcherFor(app, httpMethod, method string) *batcher {
	if strings.ContainsRune(method, '?') {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.batchers[app+" "+Route(httpMethod, method)]
}

type pendingCall struct {
	ctx  context.Context
	call BatchCall
	done chan batchOutcome
}

type batchOutcome struct {
	res BatchResult
	err error
}

// batcher sends the calls of one route to one app in batches.
type batcher struct {
	inv   *Invoker
	app   string
	route string // Route(method, path)
	q     *group.Queue[*pendingCall]
}

func (b *batcher) send(batch []*pendingCall) {
	live := batch[:0]
	for _, p := range batch {
		if p.ctx.Err() == nil { // its caller gave up before it was sent
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return
	}
	batchSize.WithLabelValues(b.app).Observe(float64(len(live)))
	if len(live) == 1 {
		p := live[0]
		res, err := b.inv.do(p.ctx, b.app, p.call.Method, p.call.Path, p.call.Body)
		p.done <- batchOutcome{res, err}
		return
	}
	req := batchRequest{Calls: make([]BatchCall, len(live))}
	for n, p := range live {
		req.Calls[n] = p.call
	}
	body, err := json.Marshal(req)
	var out batchResponse
	if err == nil {
		// The batch outlives any one caller's context: each waits on its
		// own and may stop waiting, as for a call sent alone.
		ctx := context.WithoutCancel(live[0].ctx)
		var res BatchResult
		res, err = b.inv.do(ctx, b.app, http.MethodPost, BatchPath, body)
		switch {
		case err != nil:
		case res.Status >= 300:
			err = problemOf(res)
		default:
			if err = json.Unmarshal(res.Body, &out); err == nil && len(out.Results) != len(live) {
				err = fmt.Errorf("batch to %s: %d answers for %d calls", b.app, len(out.Results), len(live))
			}
		}
	}
	for n, p := range live {
		if err != nil {
			p.done <- batchOutcome{err: fmt.Errorf("%s (batched): %w", p.call.Path, err)}
			continue
		}
		p.done <- batchOutcome{res: out.Results[n]}
	}
}

// call queues one call on its batcher and waits for its answer, counting
// and timing it under its route.
func (b *batcher) call(ctx context.Context, c BatchCall) (res BatchResult, err error) {
	start := time.Now()
	defer func() {
		status := "error"
		if err == nil {
			status = strconv.Itoa(res.Status)
		}
		batchedCallSeconds.WithLabelValues(b.app, b.route, status).Observe(time.Since(start).Seconds())
	}()
	if err := ctx.Err(); err != nil {
		return BatchResult{}, err
	}
	p := &pendingCall{ctx: ctx, call: c, done: make(chan batchOutcome, 1)}
	b.q.Submit(p, b.send)
	select {
	case o := <-p.done:
		return o.res, o.err
	case <-ctx.Done():
		return BatchResult{}, ctx.Err()
	}
}

// do sends one invocation and reads its whole answer.
func (i *Invoker) do(ctx context.Context, app, httpMethod, method string, body []byte) (BatchResult, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, i.base+"/v1.0/invoke/"+app+"/method/"+method, rd)
	if err != nil {
		return BatchResult{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	i.authorize(req) // single calls and whole batches alike
	resp, err := i.client.Do(req)
	if err != nil {
		return BatchResult{}, fmt.Errorf("invoke %s/%s: %w", app, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return BatchResult{}, fmt.Errorf("invoke %s/%s: read answer: %w", app, method, err)
	}
	return BatchResult{Status: resp.StatusCode, Body: b}, nil
}

// problemOf turns an error answer into the error Invoke returns for it.
func problemOf(r BatchResult) error {
	return httpapi.ReadProblem(&http.Response{StatusCode: r.Status, Body: io.NopCloser(bytes.NewReader(r.Body))})
}

// BatchHandler serves BatchPath: it runs each call of a batch through root,
// concurrently, and answers their statuses and bodies in order. Only the
// allowed routes run; any other call answers 403 without running.
func BatchHandler(root http.Handler, allowed ...string) http.HandlerFunc {
	allow := make(map[string]bool, len(allowed))
	for _, r := range allowed {
		allow[r] = true
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var req batchRequest
		if err := httpapi.Decode(r, &req); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		if len(req.Calls) == 0 || len(req.Calls) > maxBatch {
			httpapi.WriteError(w, r, &httpapi.Problem{Status: http.StatusBadRequest, Code: "INVALID_BATCH",
				Message: fmt.Sprintf("a batch holds 1 to %d calls, not %d", maxBatch, len(req.Calls))})
			return
		}
		out := batchResponse{Results: make([]BatchResult, len(req.Calls))}
		var wg sync.WaitGroup
		for n, c := range req.Calls {
			if !allow[Route(c.Method, c.Path)] {
				out.Results[n] = problemResult(httpapi.Problem{Status: http.StatusForbidden, Code: "NOT_BATCHABLE",
					Message: fmt.Sprintf("%s %s cannot be called in a batch", c.Method, c.Path)})
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				out.Results[n] = serveOne(root, r, c)
			}()
		}
		wg.Wait()
		httpapi.WriteJSON(w, http.StatusOK, out)
	}
}

// problemResult is the answer of a call that did not run.
func problemResult(p httpapi.Problem) BatchResult {
	b, _ := json.Marshal(p)
	return BatchResult{Status: p.Status, Body: b}
}

// serveOne runs one call through root as a request of its own, carrying
// the batch request's headers (trace context, caller identity).
func serveOne(root http.Handler, outer *http.Request, c BatchCall) BatchResult {
	var body io.Reader = http.NoBody
	if len(c.Body) > 0 {
		body = bytes.NewReader(c.Body)
	}
	// Routed afresh: chi reuses a route context it finds on the request's
	// context, and the batch's own would be shared by all its calls.
	ctx := context.WithValue(outer.Context(), chi.RouteCtxKey, (*chi.Context)(nil))
	req, err := http.NewRequestWithContext(ctx, c.Method, "/"+c.Path, body)
	if err != nil {
		return problemResult(httpapi.Problem{Status: http.StatusBadRequest, Code: "INVALID_BATCH", Message: err.Error()})
	}
	req.Header = outer.Header.Clone()
	req.Header.Del("Content-Length")
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = outer.RemoteAddr
	rec := httptest.NewRecorder()
	root.ServeHTTP(rec, req)
	b := rec.Body.Bytes()
	if len(bytes.TrimSpace(b)) == 0 {
		b = nil
	} else if !json.Valid(b) {
		b, _ = json.Marshal(string(b)) // every route answers JSON; this keeps the batch readable if one does not
	}
	return BatchResult{Status: rec.Code, Body: b}
}
