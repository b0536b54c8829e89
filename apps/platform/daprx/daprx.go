// Package daprx holds Harvest's helpers over the Dapr sidecar: service
// invocation over the sidecar's HTTP API (so status codes and Problems pass
// through unchanged), publishing outbox CloudEvents, and thin topic
// subscribers that map a handler's result to success, retry or drop.
package daprx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	daprc "github.com/dapr/go-sdk/client"
)

// Invoker calls other apps through this app's sidecar.
type Invoker struct {
	base   string
	client *http.Client
	token  string // DAPR_API_TOKEN, sent as dapr-api-token on every call

	mu       sync.Mutex
	batchers map[string]*batcher // by "app METHOD path"; see Batch
}

// APITokenHeader is the header a sidecar and its app authenticate each
// other by: the app sends DAPR_API_TOKEN in it to the sidecar, the
// sidecar sends APP_API_TOKEN in it to the app.
const APITokenHeader = "dapr-api-token"

// InvokerOption configures an Invoker.
type InvokerOption func(*Invoker)

// WithAPIToken makes the Invoker authenticate to its sidecar with token
// (the sidecar's DAPR_API_TOKEN); a sidecar started with one refuses
// every call without it.
func WithAPIToken(token string) InvokerOption { return func(i *Invoker) { i.token = token } }

// NewInvoker returns an Invoker for the sidecar's HTTP port.
func NewInvoker(daprHTTPPort int, opts ...InvokerOption) *Invoker {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	}
	i := &Invoker{
		base:   "http://127.0.0.1:" + strconv.Itoa(daprHTTPPort),
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
	for _, o := range opts {
		o(i)
	}
	return i
}

// authorize adds the sidecar's API token to req.
func (i *Invoker) authorize(req *http.Request) {
	if i.token != "" {
		req.Header.Set(APITokenHeader, i.token)
	}
}

// Invoke calls method on app with in as JSON (nil for no body) and decodes
// the answer into out (nil to ignore it). A Problem from the callee comes
// back as *httpapi.Problem.
func (i *Invoker) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("marshal request to %s/%s: %w", app, method, err)
		}
		body = b
	}
	var (
		res BatchResult
		err error
	)
	if b := i.batcherFor(app, httpMethod, method); b != nil {
		res, err = b.call(ctx, BatchCall{Method: httpMethod, Path: method, Body: body})
	} else {
		res, err = i.do(ctx, app, httpMethod, method, body)
	}
	if err != nil {
		return err
	}
	if res.Status >= 300 {
		return problemOf(res)
	}
	if out == nil || len(res.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("decode answer of %s/%s: %w", app, method, err)
	}
	return nil
}

// InvokeBody calls method on app with a body of contentType (an uploaded
// file, say), never batched, and decodes a JSON answer into out.
func (i *Invoker) InvokeBody(ctx context.Context, app, httpMethod, method, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, httpMethod, i.base+"/v1.0/invoke/"+app+"/method/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	i.authorize(req)
	resp, err := i.client.Do(req)
	if err != nil {
		return fmt.Errorf("invoke %s/%s: %w", app, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("invoke %s/%s: read answer: %w", app, method, err)
	}
	if resp.StatusCode >= 300 {
		return problemOf(BatchResult{Status: resp.StatusCode, Body: b})
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer of %s/%s: %w", app, method, err)
	}
	return nil
}

// Healthy reports whether the sidecar answers its outbound health check.
func (i *Invoker) Healthy(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, i.base+"/v1.0/healthz/outbound", nil)
	i.authorize(req) // not needed by daprd for health (1.18 neither), harmless
	resp, err := i.client.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("sidecar health: status %d", resp.StatusCode)
	}
	return nil
}

// Publisher publishes outbox CloudEvents through the sidecar.
type Publisher struct {
	Client daprc.Client
	PubSub string
}

// Publish sends a complete CloudEvent; with the cloudevents content type
// Dapr keeps its id, which consumers deduplicate by.
func (p Publisher) Publish(ctx context.Context, topic string, cloudEvent []byte) error {
	return p.Client.PublishEvent(ctx, p.PubSub, topic, cloudEvent,
		daprc.PublishEventWithContentType("application/cloudevents+json"))
}

// PublishBulk sends complete CloudEvents of one topic in one call (Dapr's
// bulk publish: the go-sdk calls the stable BulkPublishEvent of daprd
// 1.18, falling back to the alpha of older sidecars) and answers the indexes of those that
// failed. The sidecar publishes a bulk's entries in no particular order;
// the outbox relay only puts events of distinct aggregates in one bulk.
func (p Publisher) PublishBulk(ctx context.Context, topic string, cloudEvents [][]byte) ([]int, error) {
	entries := make([]any, len(cloudEvents))
	for i, ce := range cloudEvents {
		entries[i] = daprc.PublishEventsEvent{EntryID: strconv.Itoa(i), Data: ce, ContentType: "application/cloudevents+json"}
	}
	res := p.Client.PublishEvents(ctx, p.PubSub, topic, entries)
	if res.Error == nil {
		return nil, nil
	}
	var failed []int
	for _, f := range res.FailedEvents {
		if e, ok := f.(daprc.PublishEventsEvent); ok {
			if i, err := strconv.Atoi(e.EntryID); err == nil {
				failed = append(failed, i)
			}
		}
	}
	if len(failed) == 0 {
		for i := range cloudEvents {
			failed = append(failed, i)
		}
	}
	return failed, res.Error
}

// ErrDrop marks a message that can never succeed (a malformed payload):
// the subscriber drops it to the dead-letter topic instead of retrying.
var ErrDrop = errors.New("drop message")

// InvokeRaw calls method on app with body and header as given and returns
// the answer's status and body as they came: for outside systems reached
// as HTTPEndpoints that speak their own wire format (a marketplace's
// signed form or JSON), not Harvest's JSON and Problems.
func (i *Invoker) InvokeRaw(ctx context.Context, app, httpMethod, method string, header map[string]string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, i.base+"/v1.0/invoke/"+app+"/method/"+method, rd)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	i.authorize(req)
	resp, err := i.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("invoke %s/%s: %w", app, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("invoke %s/%s: read answer: %w", app, method, err)
	}
	return resp.StatusCode, b, nil
}
