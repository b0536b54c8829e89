package hub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/graph/model"
)

func TestSlowSubscriberIsDropped(t *testing.T) {
	t.Parallel()
	h := New(2, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := h.Subscribe(ctx, nil)
	fast := h.Subscribe(ctx, nil)
	got := 0
	for i := range 5 {
		h.Publish(&model.OrderUpdate{OrderID: string(rune('a' + i))})
		<-fast
		got++
	}
	if got != 5 || h.Len() != 1 {
		t.Fatalf("fast got %d, hub has %d subscribers", got, h.Len())
	}
	// The slow one keeps what it buffered, then sees its channel closed.
	n := 0
	for range slow {
		n++
	}
	if n != 2 {
		t.Fatalf("slow subscriber drained %d updates, want its buffer of 2", n)
	}
}

func TestChannelClosesWithContext(t *testing.T) {
	t.Parallel()
	h := New(4, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch := h.Subscribe(ctx, func(u *model.OrderUpdate) bool { return u.CustomerID == "alice" })
	h.Publish(&model.OrderUpdate{OrderID: "o1", CustomerID: "bob"})
	h.Publish(&model.OrderUpdate{OrderID: "o2", CustomerID: "alice"})
	if u := <-ch; u.OrderID != "o2" {
		t.Fatalf("got %s, want only alice's o2", u.OrderID)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("unexpected update after cancel")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed after ctx ended")
	}
	if h.Len() != 0 {
		t.Fatalf("hub still holds %d subscribers", h.Len())
	}
	h.Publish(&model.OrderUpdate{OrderID: "o3", CustomerID: "alice"}) // must not panic on a closed channel
}

func TestDecode(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	u, err := Decode(events.TopicOrderPlaced, []byte(`{"order_id":"o1","customer_id":"c1","status":"PAID","placed_at":"2030-01-01T00:00:00Z"}`))
	if err != nil || u.Type != model.OrderEventTypePlaced || u.Status != model.OrderStatusPaid || !u.At.Equal(at) || u.CustomerID != "c1" {
		t.Fatalf("placed: %+v %v", u, err)
	}
	u, err = Decode(events.TopicOrderCancelled, []byte(`{"order_id":"o1","customer_id":"c1","reason":"PAYMENT_EXPIRED"}`))
	if err != nil || u.Status != model.OrderStatusCancelled || u.Reason == nil || *u.Reason != "PAYMENT_EXPIRED" {
		t.Fatalf("cancelled: %+v %v", u, err)
	}
	for _, bad := range []struct{ topic, data string }{
		{events.TopicOrderPaid, `{not json`},
		{events.TopicOrderPaid, `{"customer_id":"c1"}`},
		{"oms.order.unknown", `{}`},
	} {
		if _, err := Decode(bad.topic, []byte(bad.data)); !errors.Is(err, daprx.ErrDrop) {
			t.Errorf("%s %s: err = %v, want ErrDrop", bad.topic, bad.data, err)
		}
	}
}
