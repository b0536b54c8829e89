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
	"time"

	daprc "github.com/dapr/go-sdk/client"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Invoker calls other apps through this app's sidecar.
type Invoker struct {
	base   string
	client *http.Client
}

// NewInvoker returns an Invoker for the sidecar's HTTP port.
func NewInvoker(daprHTTPPort int) *Invoker {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Invoker{
		base:   "http://127.0.0.1:" + strconv.Itoa(daprHTTPPort),
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
}

// Invoke calls method on app with in as JSON (nil for no body) and decodes
// the answer into out (nil to ignore it). A Problem from the callee comes
// back as *httpapi.Problem.
func (i *Invoker) Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("marshal request to %s/%s: %w", app, method, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, httpMethod, i.base+"/v1.0/invoke/"+app+"/method/"+method, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := i.client.Do(req)
	if err != nil {
		return fmt.Errorf("invoke %s/%s: %w", app, method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return httpapi.ReadProblem(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer of %s/%s: %w", app, method, err)
	}
	return nil
}

// Healthy reports whether the sidecar answers its outbound health check.
func (i *Invoker) Healthy(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, i.base+"/v1.0/healthz/outbound", nil)
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

// ErrDrop marks a message that can never succeed (a malformed payload):
// the subscriber drops it to the dead-letter topic instead of retrying.
var ErrDrop = errors.New("drop message")
