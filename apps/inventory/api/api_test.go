package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/inventory/api"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
)

// refusingService fails the test if a handler reaches the use cases.
type refusingService struct {
	api.Service
	t *testing.T
}

func (s refusingService) ReservePriced(context.Context, domain.Request) (domain.Reservation, map[string]domain.Product, error) {
	s.t.Fatal("the use case ran")
	return domain.Reservation{}, nil, nil
}

// A reservation's expected prices are bounded like its lines: a map of
// thousands of SKUs is refused before the use case runs.
func TestReservePricesCapped(t *testing.T) {
	r := chi.NewRouter()
	api.Mount(r, refusingService{t: t})
	req := inventoryclient.ReserveRequest{OrderID: "o1", Lines: []inventoryclient.Line{{SKU: "milk", Qty: 1}}, Prices: map[string]money.Fen{}}
	for i := range domain.MaxLines + 1 {
		req.Prices[fmt.Sprint("sku-", i)] = 1
	}
	body, _ := json.Marshal(req)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/reservations", bytes.NewReader(body)))
	var p httpapi.Problem
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	if rec.Code != http.StatusBadRequest || p.Code != inventoryclient.CodeValidation || p.Details["field"] != "prices" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
