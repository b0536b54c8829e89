package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/harvest/harvest/apps/channels/domain"
	"github.com/harvest/harvest/apps/platform/daprx"
)

func TestABulkRetriesOnlyTheMessagesWithAPassingFaultAndDropsThoseNamingNothingKnown(t *testing.T) {
	outcome := map[string]error{"x": domain.ErrNotFound, "y": domain.ErrNotFound, "e": errors.New("connection reset")}
	var calls [][]string
	apply := func(_ context.Context, ids []string) []error {
		calls = append(calls, slices.Clone(ids))
		errs := make([]error, len(ids))
		for i, id := range ids {
			if err := outcome[id]; err != nil {
				errs[i] = fmt.Errorf("%w: %s", err, id)
			}
		}
		return errs
	}
	h := ofIDs(func(b []byte) ([]string, error) { return IDsOf(TopicOrderReceived, b) }, apply)
	ms := []daprx.Message{
		{ID: "m1", Data: []byte(`{"process_ids":["a","b"]}`)},
		{ID: "m2", Data: []byte(`{"process_id":"c","platform":"YUEDIAN"}`)}, // v1, written before v2
		{ID: "m3", Data: []byte(`{"process_ids":["x"]}`)},
		{ID: "m4", Data: []byte(`{"process_ids":`)},
		{ID: "m5", Data: []byte(`{"process_ids":["d","y"]}`)},
		{ID: "m6", Data: []byte(`{"process_ids":["e","f"]}`)},
		{ID: "m7", Data: []byte(`{}`)},
	}
	errs := h(context.Background(), ms)
	if len(calls) != 1 || !slices.Equal(calls[0], []string{"a", "b", "c", "x", "d", "y", "e", "f"}) {
		t.Fatalf("applied %v, want every id of the bulk at once", calls)
	}
	want := []string{"done", "done", "drop", "drop", "done", "retry", "drop"}
	for i, err := range errs {
		got := "done"
		switch {
		case errors.Is(err, daprx.ErrDrop):
			got = "drop"
		case err != nil:
			got = "retry"
		}
		if got != want[i] {
			t.Errorf("%s: %s (%v), want %s", ms[i].ID, got, err, want[i])
		}
	}
}
