package marketingclient

// Pop-up claims (DOMAIN 3.3): claim campaigns staff define, and the
// claims customers make on them, answered at once and bound shortly after
// (or when the customer next views their coupons).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// Claim error codes (httpapi.Problem.Code).
const (
	CodeClaimCampaignEnded      = "CAMPAIGN_ENDED"
	CodeClaimCampaignNotStarted = "CAMPAIGN_NOT_STARTED"
	CodeClaimLimitReached       = "CLAIM_LIMIT_REACHED"
	CodeClaimOutOfStock         = "OUT_OF_STOCK"
)

// Claim statuses.
const (
	ClaimPending = "PENDING"
	ClaimBound   = "BOUND"
	ClaimRefused = "REFUSED"
)

// MaxClaimBatch bounds the claims of one POST v1/coupon-claims/batch.
// A batch costs two sidecar hops and one JSON body each way whatever it
// holds, so a peak's batches are made large (see claimQueue).
const MaxClaimBatch = 256

// CreateClaimCampaignRequest defines a pop-up claim campaign.
type CreateClaimCampaignRequest struct {
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Name           string    `json:"name"`
	TemplateID     string    `json:"template_id"`
	Stock          int64     `json:"stock"`
	PerUserLimit   int       `json:"per_user_limit"`
	StartsAt       time.Time `json:"starts_at"`
	EndsAt         time.Time `json:"ends_at"`
}

// ClaimCampaign is a claim campaign with what its claims came to.
type ClaimCampaign struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	TemplateID   string    `json:"template_id"`
	Stock        int64     `json:"stock"`
	PerUserLimit int       `json:"per_user_limit"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	CreatedAt    time.Time `json:"created_at"`
	Claims       int64     `json:"claims"`
	Pending      int64     `json:"pending"`
	Bound        int64     `json:"bound"`
	Refused      int64     `json:"refused"`
	// GivebacksOwed counts units of refused claims not yet back in Redis.
	GivebacksOwed int64 `json:"givebacks_owed"`
	// StockLeft is Redis's count (-1: no counter now; rebuilt at the next claim).
	StockLeft int64 `json:"stock_left"`
}

// ClaimRequest is a customer's tap on "claim".
type ClaimRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	CampaignID     string `json:"campaign_id"`
	CustomerID     string `json:"customer_id"`
}

// Claim is one claim and where it stands.
type Claim struct {
	ID         string    `json:"id"`
	CampaignID string    `json:"campaign_id"`
	CustomerID string    `json:"customer_id"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"` // why REFUSED
	CouponID   string    `json:"coupon_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// CreateClaimCampaign defines a claim campaign.
func (c *Client) CreateClaimCampaign(ctx context.Context, r CreateClaimCampaignRequest) (ClaimCampaign, error) {
	var out ClaimCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodPost, "v1/claim-campaigns", r, &out)
}

// ClaimCampaign returns a claim campaign with its counts.
func (c *Client) ClaimCampaign(ctx context.Context, id string) (ClaimCampaign, error) {
	var out ClaimCampaign
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/claim-campaigns/"+url.PathEscape(id), nil, &out)
}

// ClaimBatchRequest is claims sent together.
type ClaimBatchRequest struct {
	Claims []ClaimRequest `json:"claims"`
}

// ClaimResult is one claim's answer in a batch: the claim or its problem.
type ClaimResult struct {
	Claim   *Claim        `json:"claim,omitempty"`
	Problem *ClaimProblem `json:"problem,omitempty"`
}

// ClaimProblem is a refused claim's httpapi.Problem, status included.
type ClaimProblem struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ClaimBatchResponse answers a ClaimBatchRequest, in its order.
type ClaimBatchResponse struct {
	Results []ClaimResult `json:"results"`
}

// ClaimCoupon records a claim and answers at once (PENDING), or refuses
// it. Concurrent claims of one client travel together (claimQueue).
func (c *Client) ClaimCoupon(ctx context.Context, r ClaimRequest) (Claim, error) {
	c.claimsOnce.Do(func() { c.claims = newClaimQueue(c.inv) })
	return c.claims.claim(ctx, r)
}

// claimQueue sends a pop-up's concurrent claims as one invocation of
// v1/coupon-claims/batch: at a peak every claim through two sidecars
// alone would spend the CPU on the invocations, not the claims. Calls
// queue while up to claimBatchesInFlight batches are in flight
// (group.Queue: a claim waits on commits, not on CPU), and a batch formed
// while others are in flight lingers up to claimBatchLinger for more, so
// a peak's claims travel in few large batches; a lone claim on an idle
// queue still goes at once, by itself. Each caller waits on its own context;
// a claim whose caller gave up is still answered to nobody, and its
// key makes the customer's retry the same claim.
type claimQueue struct {
	inv Invoker
	q   *group.Queue[*claimCall]
}

type claimCall struct {
	ctx  context.Context
	req  ClaimRequest
	done chan claimAnswer
}

type claimAnswer struct {
	claim Claim
	err   error
}

// A batch's claims are recorded by marketing's group commit, one
// transaction for up to 512 claims, two at once; more batches in flight
// than that only split the same commits into smaller batches (each
// costing its hops). The linger is short beside a commit's few ms.
const (
	claimBatchesInFlight = 6
	claimBatchLinger     = time.Millisecond
)

func newClaimQueue(inv Invoker) *claimQueue {
	return &claimQueue{inv: inv, q: group.NewQueue[*claimCall](group.Options{MaxSize: MaxClaimBatch, InFlight: claimBatchesInFlight,
		Linger: claimBatchLinger, Detach: true})}
}

func (q *claimQueue) claim(ctx context.Context, r ClaimRequest) (Claim, error) {
	call := &claimCall{ctx: ctx, req: r, done: make(chan claimAnswer, 1)}
	q.q.Submit(call, q.send)
	select {
	case a := <-call.done:
		return a.claim, a.err
	case <-ctx.Done():
		return Claim{}, ctx.Err()
	}
}

// errNoClaim: an answer of success naming no claim (a body lost on the
// way while marketing stopped) is no acceptance: the customer's retry,
// with the same key, learns what was recorded.
var errNoClaim = errors.New("claim answer names no claim")

func (q *claimQueue) send(g []*claimCall) {
	ctx := context.WithoutCancel(g[0].ctx)
	if len(g) == 1 {
		var out Claim
		err := q.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-claims", g[0].req, &out)
		if err == nil && out.ID == "" {
			err = errNoClaim
		}
		g[0].done <- claimAnswer{out, err}
		return
	}
	in := ClaimBatchRequest{Claims: make([]ClaimRequest, len(g))}
	for i, c := range g {
		in.Claims[i] = c.req
	}
	var out ClaimBatchResponse
	err := q.inv.Invoke(ctx, AppID, http.MethodPost, "v1/coupon-claims/batch", in, &out)
	if err == nil && len(out.Results) != len(g) {
		err = fmt.Errorf("claim batch: %d answers for %d claims", len(out.Results), len(g))
	}
	for i, c := range g {
		switch {
		case err != nil:
			c.done <- claimAnswer{err: err}
		case out.Results[i].Problem != nil:
			p := out.Results[i].Problem
			c.done <- claimAnswer{err: &httpapi.Problem{Status: p.Status, Code: p.Code, Message: p.Message}}
		case out.Results[i].Claim != nil && out.Results[i].Claim.ID == "":
			c.done <- claimAnswer{err: errNoClaim}
		case out.Results[i].Claim != nil:
			c.done <- claimAnswer{claim: *out.Results[i].Claim}
		default:
			c.done <- claimAnswer{err: fmt.Errorf("claim batch: answer %d is empty", i)}
		}
	}
}

// CouponClaim returns one of a customer's claims.
func (c *Client) CouponClaim(ctx context.Context, customerID, id string) (Claim, error) {
	var out Claim
	return out, c.inv.Invoke(ctx, AppID, http.MethodGet, "v1/customers/"+url.PathEscape(customerID)+"/coupon-claims/"+url.PathEscape(id), nil, &out)
}
