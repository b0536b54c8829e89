package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Outcome classifies one GraphQL mutation answer.
type Outcome int

// Outcomes of one attempt.
const (
	OK      Outcome = iota
	Refused         // a typed user error (e.g. OUT_OF_STOCK): a correct answer
	Failed          // transport error, top-level GraphQL error, or 5xx
)

// Attack sends rate requests per second for d, open loop (vegeta), each
// body made by next(i) with its own bearer token, and classifies every
// answer with classify. It returns the rate of all attempts and the count
// per outcome; latencies cover every answered request. With hits > 0 it
// sends exactly that many requests at rate and d is ignored.
func Attack(ctx context.Context, name, url string, rate int, d time.Duration, hits uint64,
	next func(i int64) (token string, body []byte),
	classify func(data json.RawMessage) (Outcome, string)) (Rate, map[Outcome]int64, map[string]int64) {

	var seq atomic.Int64
	targeter := func(t *vegeta.Target) error {
		i := seq.Add(1) - 1
		tok, body := next(i)
		t.Method = http.MethodPost
		t.URL = url
		t.Body = body
		t.Header = http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.Workers(64), vegeta.MaxWorkers(4096), vegeta.KeepAlive(true),
		vegeta.Connections(4096), vegeta.Timeout(30*time.Second))
	var (
		mu       sync.Mutex
		lat      []time.Duration
		outcomes = map[Outcome]int64{}
		reasons  = map[string]int64{}
	)
	start := time.Now()
	var pacer vegeta.Pacer = vegeta.Rate{Freq: rate, Per: time.Second}
	if hits > 0 {
		pacer, d = hitLimit{pacer, hits}, 0
	}
	for res := range attacker.Attack(targeter, pacer, d, name) {
		o, why := Failed, ""
		switch {
		case res.Error != "":
			why = res.Error
		case res.Code != http.StatusOK:
			why = fmt.Sprintf("http %d", res.Code)
		default:
			var r struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(res.Body, &r); err != nil {
				why = "bad json"
			} else if len(r.Errors) > 0 {
				why = fmt.Sprint(r.Errors[0].Extensions["code"], ": ", r.Errors[0].Message)
			} else {
				o, why = classify(r.Data)
			}
		}
		mu.Lock()
		outcomes[o]++
		if why != "" {
			reasons[why]++
		}
		if res.Error == "" {
			lat = append(lat, res.Latency)
		}
		mu.Unlock()
		if ctx.Err() != nil {
			attacker.Stop()
		}
	}
	elapsed := time.Since(start)
	l := Summarize(lat)
	total := outcomes[OK] + outcomes[Refused] + outcomes[Failed]
	return Rate{Name: name, Ops: total, Errors: outcomes[Failed], Elapsed: elapsed, P50: l.P50, P99: l.P99, P95: l.P95, Max: l.Max}, outcomes, reasons
}

// GraphQLBody encodes an operation.
func GraphQLBody(query string, vars map[string]any) []byte {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(map[string]any{"query": query, "variables": vars})
	return b.Bytes()
}

// hitLimit paces like its Pacer and stops after max hits: a run of a fixed
// number of attempts (one per flash-sale buyer) sends them all, however far
// behind its schedule a saturated stack leaves it.
type hitLimit struct {
	vegeta.Pacer
	max uint64
}

func (h hitLimit) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= h.max {
		return 0, true
	}
	return h.Pacer.Pace(elapsed, hits)
}
