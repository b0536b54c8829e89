package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// ReviewQuery selects reviews, newest first: an order's, a customer's, or
// (neither) everyone's.
type ReviewQuery struct {
	OrderID, CustomerID string
	Limit               int
}

// Review stores a customer's review of their delivered order, once per
// order: another customer's order answers ErrNotFound, one not delivered
// ErrNotReviewable, a second review ErrAlreadyReviewed; the same review
// again answers the first (a retry).
func (s *Service) Review(ctx context.Context, orderID, customerID string, rating int, text string) (domain.Review, error) {
	r, err := domain.NewReview(orderID, customerID, rating, text, s.now())
	if err != nil {
		return domain.Review{}, err
	}
	o, err := s.d.Orders.GetOrder(ctx, orderID)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound):
		return domain.Review{}, fmt.Errorf("%w: order %s", domain.ErrNotFound, orderID)
	case err != nil:
		return domain.Review{}, fmt.Errorf("read order %s: %w", orderID, err)
	}
	if err := domain.CheckReviewable(customerID, o.CustomerID, o.Status); err != nil {
		return domain.Review{}, err
	}
	got, created, err := s.d.Actions.CreateReview(ctx, r)
	if err != nil {
		return domain.Review{}, err
	}
	if !created && !got.Same(r) {
		return domain.Review{}, fmt.Errorf("%w: order %s on %s", domain.ErrAlreadyReviewed, orderID, got.CreatedAt.Format("2006-01-02"))
	}
	return got, nil
}

// Reviews lists reviews, newest first (at most 100).
func (s *Service) Reviews(ctx context.Context, q ReviewQuery) ([]domain.Review, error) {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 100
	}
	return s.d.Actions.Reviews(ctx, q)
}
