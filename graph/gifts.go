package graph

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/model"
)

// Gifts is what the gateway needs of marketing's goods-gift campaigns;
// *marketingclient.Client satisfies it.
type Gifts interface {
	CreateCampaign(ctx context.Context, r marketingclient.CreateCampaignRequest) (marketingclient.Campaign, error)
	Campaigns(ctx context.Context, before string, limit int) (marketingclient.CampaignPage, error)
	Campaign(ctx context.Context, id string) (marketingclient.Campaign, error)
	ImportCandidates(ctx context.Context, id string, file []byte) (marketingclient.ImportReport, error)
	TopUpGiftStock(ctx context.Context, id string, r marketingclient.TopUpRequest) (marketingclient.Campaign, error)
}

var _ Gifts = (*marketingclient.Client)(nil)

// MaxCandidateFile bounds a candidate upload through the gateway (a
// goods-gift list is small; marketing's own bound is larger).
const MaxCandidateFile = 2 << 20

func toGiftCampaign(c marketingclient.Campaign) *model.GiftCampaign {
	return &model.GiftCampaign{ID: c.ID, Name: c.Name, StartsAt: c.StartsAt, EndsAt: c.EndsAt, Phase: model.GiftCampaignPhase(c.Phase),
		MinGoodsFen: int64(c.Conditions.MinGoodsFen), RequiredSkus: nonNil(c.Conditions.RequiredSKUs), ExcludedCustomers: nonNil(c.ExcludedCustomers),
		GiftSku: c.Gift.SKU, GiftQtyPerOrder: c.Gift.QtyPerOrder, GiftStock: c.Gift.Stock, GiftStockLeft: c.GiftStockLeft,
		Candidates: c.Candidates, CreatedAt: c.CreatedAt}
}

func toImport(r marketingclient.ImportReport) *model.CandidateImport {
	out := &model.CandidateImport{ImportID: r.ImportID, CampaignID: r.CampaignID, DataRows: int64(r.DataRows), Imported: r.Imported,
		Duplicates: r.Duplicates, DuplicateRows: make([]int64, len(r.DuplicateRows)), AlreadyListed: r.AlreadyListed,
		InvalidRows: make([]*model.InvalidCandidateRow, len(r.InvalidRows)), Candidates: r.Candidates}
	for i, n := range r.DuplicateRows {
		out.DuplicateRows[i] = int64(n)
	}
	for i, iv := range r.InvalidRows {
		out.InvalidRows[i] = &model.InvalidCandidateRow{Row: int64(iv.Row), Reason: iv.Reason}
	}
	return out
}

// giftErrors: a file marketing could not read, or one too large, is
// VALIDATION_FAILED on the file with the service's reason; the rest as
// the wallet's.
func giftErrors(err error, field []string) ([]*model.UserError, error) {
	var p *httpapi.Problem
	if errors.As(err, &p) {
		switch p.Code {
		case marketingclient.CodeMalformedFile, marketingclient.CodeTooLarge, marketingclient.CodeUnsupported:
			reason := p.Code
			return []*model.UserError{{Code: model.UserErrorCodeValidationFailed, Message: p.Message, Field: []string{"file"}, Reason: &reason}}, nil
		}
	}
	return walletErrors(err, field)
}

func giftPayload(c marketingclient.Campaign, err error, field []string) (*model.GiftCampaignPayload, error) {
	if err != nil {
		ues, err := giftErrors(err, field)
		if err != nil {
			return nil, err
		}
		return &model.GiftCampaignPayload{Errors: ues}, nil
	}
	return &model.GiftCampaignPayload{Campaign: toGiftCampaign(c), Errors: []*model.UserError{}}, nil
}

// readUpload reads an uploaded file up to MaxCandidateFile; larger is a
// user error, nothing sent on.
func readUpload(f graphql.Upload) ([]byte, []*model.UserError, error) {
	reason := marketingclient.CodeTooLarge
	tooLarge := []*model.UserError{{Code: model.UserErrorCodeValidationFailed, Field: []string{"file"}, Reason: &reason,
		Message: fmt.Sprintf("the candidate file is larger than %d bytes", MaxCandidateFile)}}
	if f.Size > MaxCandidateFile {
		return nil, tooLarge, nil
	}
	b, err := io.ReadAll(io.LimitReader(f.File, MaxCandidateFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read upload: %w", err)
	}
	if len(b) > MaxCandidateFile {
		return nil, tooLarge, nil
	}
	return b, nil, nil
}
