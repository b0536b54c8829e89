package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Reviews: a customer rates an order of theirs once it is delivered, once
// per order; customer service reads them (DOMAIN 4, "read reviews").

var (
	// ErrNotReviewable: the order is not delivered yet (or was cancelled).
	ErrNotReviewable = errors.New("order cannot be reviewed before it is delivered")
	// ErrAlreadyReviewed: the order has another review.
	ErrAlreadyReviewed = errors.New("order was reviewed already")
	// ErrMarkedMalicious: customer service marked the order malicious;
	// the customer's returns of it are refused (CS may still make a
	// document for it, audited by a supervisor).
	ErrMarkedMalicious = errors.New("order is marked malicious")
)

// Review is a customer's review of an order.
type Review struct {
	OrderID    string
	CustomerID string
	Rating     int
	Text       string
	CreatedAt  time.Time
}

// Review limits.
const (
	MinRating     = 1
	MaxRating     = 5
	maxReviewText = 1000
)

// NewReview checks a review of orderID by customerID.
func NewReview(orderID, customerID string, rating int, text string, now time.Time) (Review, error) {
	text = strings.TrimSpace(text)
	switch {
	case orderID == "" || customerID == "" || len(orderID) > maxIDLen:
		return Review{}, fmt.Errorf("%w: order and customer are required", ErrValidation)
	case rating < MinRating || rating > MaxRating:
		return Review{}, fmt.Errorf("%w: rating must be %d-%d, got %d", ErrValidation, MinRating, MaxRating, rating)
	case text == "" || utf8.RuneCountInString(text) > maxReviewText:
		return Review{}, fmt.Errorf("%w: text must be 1-%d characters", ErrValidation, maxReviewText)
	}
	return Review{OrderID: orderID, CustomerID: customerID, Rating: rating, Text: text, CreatedAt: now}, nil
}

// Same reports whether r says what o says (a repeat of the same review).
func (r Review) Same(o Review) bool {
	return r.OrderID == o.OrderID && r.CustomerID == o.CustomerID && r.Rating == o.Rating && r.Text == o.Text
}

// CheckReviewable refuses another customer's order (as missing) and an
// order not delivered: OMS's COMPLETED, every parcel delivered.
func CheckReviewable(customerID, owner, status string) error {
	if customerID != owner {
		return fmt.Errorf("%w: order", ErrNotFound)
	}
	if status != "COMPLETED" {
		return fmt.Errorf("%w: it is %s", ErrNotReviewable, status)
	}
	return nil
}
