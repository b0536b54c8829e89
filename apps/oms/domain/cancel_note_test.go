package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/oms/domain"
)

// A customer's cancel note is bounded in characters, not bytes; a longer
// one is a violation of field reason and leaves the order unchanged.
func TestCancelNoteBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		note string
		ok   bool
	}{
		{"empty", "", true},
		{"500 characters of three bytes", strings.Repeat("长", domain.MaxCancelNote), true},
		{"501 characters", strings.Repeat("x", domain.MaxCancelNote+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := pending(t)
			err := o.CancelByCustomer("c", now, tc.note)
			if tc.ok {
				if err != nil || o.Status() != domain.StatusCancelled {
					t.Fatalf("err %v, status %s", err, o.Status())
				}
				return
			}
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != "reason" || ve.Violations[0].Code != "REASON_TOO_LONG" {
				t.Fatalf("err = %v", err)
			}
			if o.Status() != domain.StatusPendingPayment || len(o.Timeline()) != 1 {
				t.Fatalf("order changed: %s, %d timeline entries", o.Status(), len(o.Timeline()))
			}
		})
	}
}
