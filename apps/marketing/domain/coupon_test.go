package domain

import (
	"errors"
	"testing"
	"time"
)

var c0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func TestCouponRules(t *testing.T) {
	t.Parallel()
	c := Coupon{ID: "c", CustomerID: "C1", Status: CouponAvailable,
		Rules: TemplateSpec{ValueFen: 1_000, ThresholdFen: 9_900, SKUs: []string{"A"}, ValidFrom: c0, ValidTo: c0.Add(time.Hour)}}
	cases := []struct {
		name     string
		c        Coupon
		customer string
		at       time.Time
		lines    []Line
		hold     error
		applies  error
	}{
		{"usable", c, "C1", c0, []Line{{SKU: "A", Qty: 1, AmountFen: 9_900}}, nil, nil},
		{"someone else's", c, "C2", c0, nil, ErrCouponNotFound, nil},
		{"expired", c, "C1", c0.Add(time.Hour), nil, ErrCouponExpired, nil},
		{"not started", c, "C1", c0.Add(-time.Second), nil, ErrCouponNotStarted, nil},
		{"below threshold on its SKUs", c, "C1", c0, []Line{{SKU: "A", AmountFen: 9_899}, {SKU: "B", AmountFen: 50_000}}, nil, ErrThresholdNotMet},
		{"none of its SKUs", c, "C1", c0, []Line{{SKU: "B", AmountFen: 50_000}}, nil, ErrNotApplicable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.c.CanHold(tc.customer, "h", tc.at); !errors.Is(err, tc.hold) {
				t.Fatalf("hold: %v, want %v", err, tc.hold)
			}
			if tc.lines != nil {
				if err := tc.c.Applies(tc.lines); !errors.Is(err, tc.applies) {
					t.Fatalf("applies: %v, want %v", err, tc.applies)
				}
			}
		})
	}
	held := c
	held.Status, held.HoldID = CouponHeld, "h"
	if err := held.CanHold("C1", "h", c0); err != nil {
		t.Fatalf("the same hold again: %v", err)
	}
	if err := held.CanHold("C1", "other", c0); !errors.Is(err, ErrCouponNotUsable) {
		t.Fatalf("another hold: %v", err)
	}
	if got := c.StatusAt(c0.Add(time.Hour)); got != CouponExpired {
		t.Fatalf("shown %s past its window", got)
	}
}

func TestCouponCampaignStates(t *testing.T) {
	t.Parallel()
	spec := CouponCampaignSpec{Name: "n", TemplateID: "t", Stock: 10}
	steps := []struct {
		name string
		move func(c *CouponCampaign, now time.Time) error
		ok   bool
		want CampaignStatus
	}{
		{"pause a draft", (*CouponCampaign).Pause, false, CampaignDraft},
		{"launch", (*CouponCampaign).Launch, true, CampaignRunning},
		{"launch again", (*CouponCampaign).Launch, false, CampaignRunning},
		{"pause", (*CouponCampaign).Pause, true, CampaignPaused},
		{"pause again", (*CouponCampaign).Pause, false, CampaignPaused},
		{"resume", (*CouponCampaign).Resume, true, CampaignRunning},
		{"cancel", (*CouponCampaign).Cancel, true, CampaignCancelled},
		{"resume a cancelled one", (*CouponCampaign).Resume, false, CampaignCancelled},
	}
	c, err := NewCouponCampaign("id", spec, c0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		err := s.move(&c, c0)
		if (err == nil) != s.ok || (err != nil && !errors.Is(err, ErrCampaignState)) || c.Status() != s.want {
			t.Fatalf("%s: %v, status %s; want ok=%v and %s", s.name, err, c.Status(), s.ok, s.want)
		}
	}
}
