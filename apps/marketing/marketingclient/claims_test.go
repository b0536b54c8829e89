package marketingclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mc "github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// slowMarketing answers claims as marketing's routes would, slowly, so
// concurrent callers queue behind the batches in flight; a claim whose
// key starts with "x" is refused.
type slowMarketing struct {
	batches, alone, claims atomic.Int64
}

func (m *slowMarketing) answer(r mc.ClaimRequest) mc.ClaimResult {
	if r.IdempotencyKey[0] == 'x' {
		return mc.ClaimResult{Problem: &mc.ClaimProblem{Status: http.StatusConflict, Code: mc.CodeClaimLimitReached, Message: r.CustomerID}}
	}
	return mc.ClaimResult{Claim: &mc.Claim{ID: "claim-of-" + r.CustomerID, CustomerID: r.CustomerID, Status: mc.ClaimPending}}
}

func (m *slowMarketing) Invoke(_ context.Context, _, _, method string, in, out any) error {
	time.Sleep(20 * time.Millisecond)
	b, _ := json.Marshal(in)
	switch method {
	case "v1/coupon-claims":
		m.alone.Add(1)
		var r mc.ClaimRequest
		_ = json.Unmarshal(b, &r)
		m.claims.Add(1)
		res := m.answer(r)
		if res.Problem != nil {
			return &httpapi.Problem{Status: res.Problem.Status, Code: res.Problem.Code, Message: res.Problem.Message}
		}
		*out.(*mc.Claim) = *res.Claim
	case "v1/coupon-claims/batch":
		m.batches.Add(1)
		var r mc.ClaimBatchRequest
		_ = json.Unmarshal(b, &r)
		o := out.(*mc.ClaimBatchResponse)
		for _, c := range r.Claims {
			m.claims.Add(1)
			o.Results = append(o.Results, m.answer(c))
		}
	default:
		return fmt.Errorf("unexpected %s", method)
	}
	return nil
}

// Concurrent claims of one client travel in batches, and every caller
// gets its own answer: its claim, or its own refusal.
func TestConcurrentClaimsTravelTogetherEachAnsweredItsOwn(t *testing.T) {
	m := &slowMarketing{}
	c := mc.New(m)
	var wg sync.WaitGroup
	const callers = 500
	for i := range callers {
		wg.Go(func() {
			cust := fmt.Sprintf("C%04d", i)
			key := "k"
			if i%7 == 0 {
				key = "x"
			}
			cl, err := c.ClaimCoupon(context.Background(), mc.ClaimRequest{IdempotencyKey: key, CampaignID: "camp", CustomerID: cust})
			if key == "x" {
				if p, ok := err.(*httpapi.Problem); !ok || p.Code != mc.CodeClaimLimitReached || p.Message != cust {
					t.Errorf("%s: %v, want its own refusal", cust, err)
				}
			} else if err != nil || cl.CustomerID != cust {
				t.Errorf("%s: %+v %v, want its own claim", cust, cl, err)
			}
		})
	}
	wg.Wait()
	if m.claims.Load() != callers || m.batches.Load() == 0 || m.batches.Load()+m.alone.Load() >= callers/4 {
		t.Fatalf("%d claims in %d batches and %d alone: want all %d, most together", m.claims.Load(), m.batches.Load(), m.alone.Load(), callers)
	}
	t.Logf("%d claims in %d invocations (%d batches)", callers, m.batches.Load()+m.alone.Load(), m.batches.Load())
}
