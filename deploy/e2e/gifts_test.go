package e2e

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/harvest/harvest/apps/platform/ids"
)

type giftCampaign struct {
	ID                       string
	Phase                    string
	GiftStock, GiftStockLeft int64
	Candidates               int64
}

const giftFields = `id phase giftStock giftStockLeft candidates`

// workbook is an .xlsx file whose first sheet holds rows, one cell each.
func workbook(t *testing.T, rows ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetCellValue("Sheet1", cell, r); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploadCandidates sends importGiftCandidates as a GraphQL multipart
// request (the file in part "0"), as the staff console would.
func uploadCandidates(t *testing.T, token, campaign string, file []byte) (imported map[string]any, errs []userError) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": `mutation($c: ID!, $f: Upload!) { importGiftCandidates(campaignId: $c, file: $f) {
		import { imported duplicates duplicateRows alreadyListed invalidRows { row reason } candidates } errors { code message field reason } } }`,
		"variables": map[string]any{"c": campaign, "f": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "candidates.xlsx")
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, st.GraphQLURL(), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Harvest-CSRF", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			ImportGiftCandidates struct {
				Import map[string]any
				Errors []userError
			}
		}
		Errors []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("upload: %v %+v (http %d)", err, out.Errors, resp.StatusCode)
	}
	return out.Data.ImportGiftCandidates.Import, out.Data.ImportGiftCandidates.Errors
}

// Goods-gift campaigns through GraphQL: created with their gift, the
// candidate list imported from an .xlsx upload (duplicates and invalid rows
// reported by row), the stock topped up once per key; a campaign without a
// gift, an unreadable file and a top-up of no units are refused with
// precise codes, changing nothing.
func TestGiftCampaignThroughGraphQL(t *testing.T) {
	tok, err := st.Token("MARKETING", "mk-gifts")
	if err != nil {
		t.Fatal(err)
	}
	mk := client(t, "MARKETING", "mk-gifts")
	now := time.Now().UTC()
	create := func(in map[string]any) (*giftCampaign, []userError) {
		var out struct {
			CreateGiftCampaign struct {
				Campaign *giftCampaign
				Errors   []userError
			}
		}
		if err := mk.Do(ctx(t), `mutation($in: GiftCampaignInput!, $key: String!) { createGiftCampaign(input: $in, idempotencyKey: $key) {
			campaign { `+giftFields+` } errors { code message field reason } } }`, map[string]any{"in": in, "key": ids.New()}, &out); err != nil {
			t.Fatal(err)
		}
		return out.CreateGiftCampaign.Campaign, out.CreateGiftCampaign.Errors
	}
	in := map[string]any{"name": "gift", "startsAt": now.Add(-time.Minute), "endsAt": now.Add(time.Hour), "giftStock": 5}
	if c, errs := create(in); c != nil || len(errs) != 1 || errs[0].Code != "VALIDATION_FAILED" {
		t.Fatalf("a campaign without a gift: %+v %+v", c, errs)
	}
	in["giftSku"] = "SKU-00001"
	c, errs := create(in)
	if c == nil || c.Phase != "ACTIVE" || c.GiftStock != 5 {
		t.Fatalf("campaign: %+v %+v", c, errs)
	}
	rep, errs := uploadCandidates(t, tok, c.ID, workbook(t, "customer_id", "C0070", "C0071", "C0070", "not an id!"))
	if rep == nil {
		t.Fatalf("import: %+v", errs)
	}
	if rep["imported"].(float64) != 2 || rep["candidates"].(float64) != 2 || len(rep["invalidRows"].([]any)) != 1 ||
		len(rep["duplicateRows"].([]any)) != 1 {
		t.Fatalf("import report %+v", rep)
	}
	if rep, errs := uploadCandidates(t, tok, c.ID, []byte("this is no workbook")); rep != nil || len(errs) != 1 ||
		errs[0].Code != "VALIDATION_FAILED" || errs[0].Reason != "MALFORMED_FILE" {
		t.Fatalf("an unreadable file: %+v %+v", rep, errs)
	}
	topUp := func(units int, key string) (*giftCampaign, []userError) {
		var out struct {
			TopUpGiftStock struct {
				Campaign *giftCampaign
				Errors   []userError
			}
		}
		if err := mk.Do(ctx(t), `mutation($c: ID!, $u: Int!, $key: String!) { topUpGiftStock(campaignId: $c, units: $u, idempotencyKey: $key) {
			campaign { `+giftFields+` } errors { code message field reason } } }`, map[string]any{"c": c.ID, "u": units, "key": key}, &out); err != nil {
			t.Fatal(err)
		}
		return out.TopUpGiftStock.Campaign, out.TopUpGiftStock.Errors
	}
	for range 2 { // the retry adds nothing
		if got, errs := topUp(3, "top-1"); got == nil || got.GiftStock != 8 || got.GiftStockLeft != 8 {
			t.Fatalf("top-up: %+v %+v", got, errs)
		}
	}
	if got, errs := topUp(0, "top-2"); got != nil || len(errs) != 1 || errs[0].Code != "VALIDATION_FAILED" {
		t.Fatalf("a top-up of no units: %+v %+v", got, errs)
	}
	if got, errs := topUp(4, "top-1"); got != nil || len(errs) != 1 || errs[0].Code != "IDEMPOTENCY_KEY_REUSED" {
		t.Fatalf("the key with other units: %+v %+v", got, errs)
	}
	var out struct{ GiftCampaign *giftCampaign }
	if err := mk.Do(ctx(t), `query($id: ID!) { giftCampaign(id: $id) { `+giftFields+` } }`, map[string]any{"id": c.ID}, &out); err != nil {
		t.Fatal(err)
	}
	if g := out.GiftCampaign; g == nil || g.GiftStock != 8 || g.Candidates != 2 {
		t.Fatalf("campaign after all: %+v", g)
	}
}
