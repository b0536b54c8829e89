package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/deploy/load"
)

// cleanFacts are the databases after a correct run over paid.
func cleanFacts(paid []paidOrder) cancelFacts {
	f := cancelFacts{orderStatus: map[string]string{}, paidFen: map[string]int64{}, tradeRefund: map[string]int64{},
		refunds: map[string][]int64{}, requests: map[string][]cancelRow{}}
	for _, p := range paid {
		f.orderStatus[p.id] = "CANCELLED"
		f.paidFen[p.id], f.tradeRefund[p.id] = p.cashFen, p.cashFen
		f.refunds[p.id] = []int64{p.cashFen}
		f.requests[p.id] = []cancelRow{{status: "REFUNDED", refundedFen: p.cashFen}}
	}
	return f
}

func TestCheckCancelsFindsEveryViolation(t *testing.T) {
	t.Parallel()
	paid := []paidOrder{{id: "O1", customer: "C0001", cashFen: 1290}, {id: "O2", customer: "C0002", cashFen: 500}}
	if v := checkCancels(paid, cleanFacts(paid)); len(v) != 0 {
		t.Fatalf("a clean run: %v", v)
	}
	for _, c := range []struct {
		name    string
		breakIt func(f *cancelFacts)
		want    string
	}{
		{"order not cancelled", func(f *cancelFacts) { f.orderStatus["O1"] = "FULFILLING" }, "O1 is \"FULFILLING\""},
		{"refunded twice", func(f *cancelFacts) { f.refunds["O2"] = []int64{500, 500} }, "O2: refunds [500 500]"},
		{"refunded short", func(f *cancelFacts) { f.refunds["O2"] = []int64{400} }, "O2: refunds [400]"},
		{"never refunded", func(f *cancelFacts) { delete(f.refunds, "O1") }, "O1: refunds []"},
		{"trade not refunded in full", func(f *cancelFacts) { f.tradeRefund["O1"] = 1000 }, "trades refunded 1000 of 1290"},
		{"paid other than due", func(f *cancelFacts) { f.paidFen["O1"] = 1 }, "PAY holds 1 fen paid"},
		{"two requests", func(f *cancelFacts) {
			f.requests["O1"] = append(f.requests["O1"], cancelRow{status: "REFUNDED", refundedFen: 1290})
		}, "O1: cancel requests"},
		{"request not refunded", func(f *cancelFacts) { f.requests["O2"] = []cancelRow{{status: "PAUSED"}} }, "O2: cancel requests"},
		{"request of another order", func(f *cancelFacts) { f.requests["O9"] = []cancelRow{{status: "REFUNDED"}} }, "order O9, which the run did not cancel"},
		{"refund failed", func(f *cancelFacts) { f.unsettledRefunds = []string{"order O3: refund of 5 is FAILED"} }, "refund not SUCCEEDED: order O3"},
		{"push twice", func(f *cancelFacts) { f.dupPushes = []string{"push id x × 2"} }, "pushed twice: push id x"},
		{"push dead", func(f *cancelFacts) { f.unfinishedPushes = []string{"p SETTLEMENT DEAD: boom"} }, "push not done: p SETTLEMENT DEAD"},
	} {
		f := cleanFacts(paid)
		c.breakIt(&f)
		v := checkCancels(paid, f)
		if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), c.want) {
			t.Errorf("%s: violations %q, want one with %q", c.name, v, c.want)
		}
	}
}

func TestPushTypeRate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if got := (pushType{done: 300, first: t0, last: t0.Add(2 * time.Second)}).perSecond(); got != 150 {
		t.Fatalf("300 in 2s: %v/s", got)
	}
	if got := (pushType{done: 1, first: t0, last: t0}).perSecond(); got != 0 {
		t.Fatalf("one push: %v/s, want 0 (no span to divide by)", got)
	}
	if got := lastPushDone([]pushType{{last: t0}, {last: t0.Add(time.Minute)}, {}}); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("last done %s", got)
	}
}

func TestClassifyDetailChecksTheCancelRequest(t *testing.T) {
	t.Parallel()
	withReq := map[string]bool{"O1": true}
	for _, c := range []struct {
		data string
		want load.Outcome
	}{
		{`{"order":{"id":"O1","cancelRequest":{"id":"R1","status":"REFUNDED"}}}`, load.OK},
		{`{"order":{"id":"O2","cancelRequest":null}}`, load.OK},
		{`{"order":{"id":"O1","cancelRequest":null}}`, load.Failed},
		{`{"order":{"id":"O2","cancelRequest":{"id":"R9","status":"ACCEPTED"}}}`, load.Failed},
		{`{"order":null}`, load.Failed},
	} {
		if got, why := classifyDetail(json.RawMessage(c.data), withReq); got != c.want {
			t.Errorf("%s: %v (%s), want %v", c.data, got, why, c.want)
		}
	}
	_, missing := classifyDetail(json.RawMessage(`{"order":{"id":"O1","cancelRequest":null}}`), withReq)
	_, absent := classifyDetail(json.RawMessage(`{"order":null}`), withReq)
	if got := wrongAnswers(map[string]int64{missing: 3, absent: 5, "http 502": 7}); got != 3 {
		t.Fatalf("wrong answers %d, want 3 (a missing order or a timeout is not a wrong cancelRequest)", got)
	}
}

func TestClassifyCancel(t *testing.T) {
	t.Parallel()
	if o, _ := classifyCancel(json.RawMessage(`{"requestCancel":{"request":{"id":"R1","status":"ACCEPTED"},"errors":[]}}`)); o != load.OK {
		t.Fatalf("accepted: %v", o)
	}
	if o, why := classifyCancel(json.RawMessage(`{"requestCancel":{"request":null,"errors":[{"code":"ORDER_NOT_CANCELLABLE"}]}}`)); o != load.Refused || why != "ORDER_NOT_CANCELLABLE" {
		t.Fatalf("refused: %v %s", o, why)
	}
}
