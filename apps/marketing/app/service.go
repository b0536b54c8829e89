// Package app holds marketing's use cases for goods-gift campaigns: create
// and list campaigns, import a candidate list from an .xlsx file, and grant
// gifts to an order in fulfillment stage 3 (DOMAIN 1.6, 3.2).
package app

import (
	"context"
	"fmt"
	"github.com/harvest/harvest/apps/platform/money"
	"log/slog"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/marketing/candidates"
	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
)

// Repository is what marketing's use cases need persisted
// (apps/marketing/store implements it).
type Repository interface {
	// CreateCampaign stores c; with a key used before it returns that
	// campaign's id (existing), with another hash domain.ErrKeyReused.
	CreateCampaign(ctx context.Context, c domain.Campaign, key, hash string) (id string, existing bool, err error)
	Campaign(ctx context.Context, id string) (domain.Campaign, error)
	Campaigns(ctx context.Context, before string, limit int) ([]domain.Campaign, error)
	// ImportCandidates adds customer ids to a campaign's list in one
	// transaction, ids already listed left alone, and records the import.
	ImportCandidates(ctx context.Context, campaignID, importID string, customerIDs []string,
		dataRows, dupRows, invalid int, now time.Time) (ImportResult, error)
	// Grant evaluates an order once: decide is asked about every campaign
	// listing the customer, and each yes takes gift stock with a
	// conditional update. A repeat (same hash) returns the first grants;
	// another hash is domain.ErrKeyReused.
	Grant(ctx context.Context, o domain.Order, hash string, now time.Time, decide Decide) ([]domain.Grant, error)
	// TopUpGiftStock adds units to a campaign's gift stock once per key;
	// check judges the campaign under its lock.
	TopUpGiftStock(ctx context.Context, id, key string, units int64, now time.Time, check func(domain.Campaign) error) error
}

// ImportResult is what one import added.
type ImportResult struct {
	ImportID        string
	Imported        int64 // ids newly added to the list
	AlreadyListed   int64 // ids the list held before this file
	CandidatesAfter int64
}

// Decide says whether campaign c grants its gift to the order being
// evaluated, given whether the customer is excluded from it.
type Decide func(c domain.Campaign, excluded bool) bool

// Service runs marketing's use cases.
type Service struct {
	store Repository
	clock clock.Clock
	log   *slog.Logger
}

// New returns a Service over repo.
func New(st Repository, clk clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, clock: clk, log: log}
}

// now is truncated to what DATETIME(6) keeps, so a first answer and a
// repeat read back from the database carry the same times.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// CreateCampaign stores a campaign with its conditions, exclusions and
// gift. With an idempotency key, a retry returns the campaign created first.
func (s *Service) CreateCampaign(ctx context.Context, key string, spec domain.CampaignSpec) (domain.Campaign, error) {
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return domain.Campaign{}, err
	}
	if len(key) > 128 {
		return domain.Campaign{}, fmt.Errorf("%w: idempotency_key is longer than 128 bytes", domain.ErrValidation)
	}
	hash := domain.RequestHash(struct {
		Name       string
		Start, End time.Time
		Cond       domain.Conditions
		Excl       []string
		Gift       domain.Gift
	}{spec.Name, spec.StartsAt, spec.EndsAt, spec.Conditions, spec.Excluded, spec.Gift})
	c, err := domain.NewCampaign(ids.New(), spec, s.now())
	if err != nil {
		return domain.Campaign{}, err
	}
	id, _, err := s.store.CreateCampaign(ctx, c, key, hash)
	if err != nil {
		return domain.Campaign{}, err
	}
	return s.store.Campaign(ctx, id)
}

// Campaign returns one campaign with its exclusions.
func (s *Service) Campaign(ctx context.Context, id string) (domain.Campaign, error) {
	return s.store.Campaign(ctx, id)
}

// Campaigns lists campaigns newest first; before is the last id of the
// previous page.
func (s *Service) Campaigns(ctx context.Context, before string, limit int) ([]domain.Campaign, error) {
	if limit <= 0 || limit > 500 {
		return nil, fmt.Errorf("%w: limit must be 1..500", domain.ErrValidation)
	}
	return s.store.Campaigns(ctx, before, limit)
}

// Now is the service's current time (for phases shown to callers).
func (s *Service) Now() time.Time { return s.now() }

// ImportReport tells staff what a candidate file brought.
type ImportReport struct {
	ImportID   string
	CampaignID string
	DataRows   int
	Imported   int64
	// Duplicates counts rows whose id the file repeats (DuplicateRows) and
	// ids the list already held before this file (AlreadyListed).
	Duplicates    int64
	DuplicateRows []int
	AlreadyListed int64
	Invalid       []candidates.Invalid
	Candidates    int64 // list size after the import
}

// ImportCandidates reads an .xlsx candidate file and adds its valid,
// new customer ids to the campaign's list in one transaction. A malformed
// file (domain.ErrMalformedFile) imports nothing; invalid rows are reported
// by row number and skipped.
func (s *Service) ImportCandidates(ctx context.Context, campaignID string, file []byte) (ImportReport, error) {
	sheet, err := candidates.Parse(file)
	if err != nil {
		return ImportReport{}, err
	}
	res, err := s.store.ImportCandidates(ctx, campaignID, ids.New(), sheet.CustomerIDs, sheet.DataRows,
		len(sheet.DuplicateRows), len(sheet.Invalid), s.now())
	if err != nil {
		return ImportReport{}, err
	}
	return ImportReport{ImportID: res.ImportID, CampaignID: campaignID, DataRows: sheet.DataRows, Imported: res.Imported,
		Duplicates: int64(len(sheet.DuplicateRows)) + res.AlreadyListed, DuplicateRows: sheet.DuplicateRows,
		AlreadyListed: res.AlreadyListed, Invalid: sheet.Invalid, Candidates: res.CandidatesAfter}, nil
}

// GrantGifts evaluates every campaign listing the order's customer as a
// candidate and grants the gift of each that is active at the order's
// placing time, does not exclude the customer, whose conditions the order
// meets and which has gift stock left. A repeat for the same order returns
// the first answer.
func (s *Service) GrantGifts(ctx context.Context, o domain.Order) ([]domain.Grant, error) {
	o.PlacedAt = o.PlacedAt.UTC().Truncate(time.Microsecond)
	if err := o.Validate(); err != nil {
		return nil, err
	}
	hash := domain.RequestHash(struct {
		C string
		G money.Fen
		L []domain.Line
		P time.Time
	}{o.CustomerID, o.GoodsFen, o.Lines, o.PlacedAt})
	return s.store.Grant(ctx, o, hash, s.now(), func(c domain.Campaign, excluded bool) bool {
		return c.Evaluate(o, true, excluded) == domain.VerdictEligible
	})
}

// MaxTopUp bounds one gift stock top-up.
const MaxTopUp = 1_000_000

// TopUpGiftStock adds units to a campaign's gift stock, once per key. An
// ended campaign gives nothing more and is not topped up.
func (s *Service) TopUpGiftStock(ctx context.Context, campaignID, key string, units int64) (domain.Campaign, error) {
	switch {
	case strings.TrimSpace(key) == "" || len(key) > 64:
		return domain.Campaign{}, fmt.Errorf("%w: idempotency_key is required (at most 64 bytes)", domain.ErrValidation)
	case units <= 0 || units > MaxTopUp:
		return domain.Campaign{}, fmt.Errorf("%w: units must be 1..%d", domain.ErrValidation, MaxTopUp)
	}
	now := s.now()
	if err := s.store.TopUpGiftStock(ctx, campaignID, key, units, now, func(c domain.Campaign) error {
		if c.PhaseAt(now) == domain.PhaseEnded {
			return fmt.Errorf("%w: campaign %s ended at %s: its stock gives nothing more", domain.ErrValidation, c.ID(), c.EndsAt().Format(time.RFC3339))
		}
		return nil
	}); err != nil {
		return domain.Campaign{}, err
	}
	return s.store.Campaign(ctx, campaignID)
}
