package daprx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServeBulkAnswersEachEntry(t *testing.T) {
	var got []Message
	h := ServeBulk("oms.order.placed", func(_ context.Context, ms []Message) []error {
		got = ms
		errs := make([]error, len(ms))
		errs[1] = errors.New("database busy")
		errs[2] = fmt.Errorf("bad payload: %w", ErrDrop)
		return errs
	})
	event := func(id, data string) string {
		return fmt.Sprintf(`{"id":%q,"type":"oms.order.placed","topic":"oms.order.placed","subject":"o","datacontenttype":"application/json","data":%s}`, id, data)
	}
	asString, _ := json.Marshal(event("m4", `{"order_id":"o4"}`))
	body := `{"id":"bulk-1","topic":"oms.order.placed","pubsubname":"pubsub","type":"com.dapr.event.sent.bulk","entries":[` +
		`{"entryId":"e1","event":` + event("m1", `{"order_id":"o1"}`) + `,"contentType":"application/cloudevents+json"},` +
		`{"entryId":"e2","event":` + event("m2", `{"order_id":"o2"}`) + `,"contentType":"application/cloudevents+json"},` +
		`{"entryId":"e3","event":` + event("m3", `{"order_id":"o3"}`) + `,"contentType":"application/cloudevents+json"},` +
		`{"entryId":"e4","event":` + string(asString) + `,"contentType":"application/cloudevents+json"},` +
		`{"entryId":"e5","event":"not a cloud event","contentType":"application/cloudevents+json"}]}`
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodPost, BulkRoute("oms.order.placed"), strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out struct {
		Statuses []bulkStatus `json:"statuses"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	want := []bulkStatus{{"e1", "SUCCESS"}, {"e2", "RETRY"}, {"e3", "DROP"}, {"e4", "SUCCESS"}, {"e5", "DROP"}}
	if fmt.Sprint(out.Statuses) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", out.Statuses, want)
	}
	if len(got) != 4 || got[0].ID != "m1" || string(got[0].Data) != `{"order_id":"o1"}` || got[3].ID != "m4" || got[3].Topic != "oms.order.placed" {
		t.Fatalf("handler saw %+v", got)
	}
}

func TestBulkSubscriptionDeclaration(t *testing.T) {
	b, _ := json.Marshal(NewBulkSubscription("pubsub", "t", "has(event.data.x)", 100, 20))
	want := `{"pubsubname":"pubsub","topic":"t","routes":{"rules":[{"match":"has(event.data.x)","path":"/events-bulk/t"}]},"bulkSubscribe":{"enabled":true,"maxMessagesCount":100,"maxAwaitDurationMs":20}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// EachMessageAtOnce runs every message of a bulk at the same time and
// answers each its own error, in order.
func TestEachMessageAtOnce(t *testing.T) {
	const n = 8
	var started sync.WaitGroup
	started.Add(n)
	h := EachMessageAtOnce(func(ctx context.Context, m Message) error {
		started.Done()
		started.Wait() // returns only once all n run together
		if m.ID == "3" {
			return errors.New("failed " + m.ID)
		}
		return nil
	})
	ms := make([]Message, n)
	for i := range ms {
		ms[i] = Message{ID: fmt.Sprint(i)}
	}
	done := make(chan []error)
	go func() { done <- h(context.Background(), ms) }()
	select {
	case errs := <-done:
		for i, err := range errs {
			if (i == 3) != (err != nil) {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the messages did not run at the same time")
	}
}
