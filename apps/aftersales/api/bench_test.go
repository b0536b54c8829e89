package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/aftersalesclient/mirrortest"
	"github.com/harvest/harvest/apps/aftersales/api"
	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/store"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// sidecar stands in for daprd's invocation API, so aftersalesclient talks
// HTTP to after-sales' real router (no sidecars: the baseline below is the
// cheapest the direct lookup can be; through two daprd it costs more).
type sidecar struct{ h http.Handler }

func (s sidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/"+aftersalesclient.AppID+"/method/")
	if !ok {
		http.Error(w, "no route", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.RequestURI = "/"+method, ""
	s.h.ServeHTTP(w, r2)
}

// BenchmarkCancelLookup is order detail's cancelRequest for an order
// without a request (99 % of them): the filter's "no" from a gateway's
// mirror in memory (filter_no_memory) and from Redis (filter_no_redis,
// one round trip) beside their baseline in the same run, asking
// after-sales (HTTP, its handler, MariaDB); compare the ns/op (target:
// ≥ 100×). The
// baseline skips both daprd sidecars, so it is the cheapest asking can
// be: deploy/e2e's BenchmarkCancelLookupThroughSidecars measures the real
// path, and harvest-load detail the gateway's own timing of both.
func BenchmarkCancelLookup(b *testing.B) {
	db, _ := testdb.New(b, "aftersales")
	rdb, prefix := testdb.Redis(b)
	st := store.New(db)
	filter := aftersalesclient.NewCancelFilter(rdb, prefix)
	ctx := context.Background()
	// 1,000 orders with requests, in the filter and the database.
	now := time.Now().UTC()
	for i := range 1000 {
		r, err := domain.NewCancel(fmt.Sprintf("R%025d", i), domain.CancelInput{OrderID: fmt.Sprintf("O-%d", i), CustomerID: "C1",
			IdempotencyKey: strconv.Itoa(i), Reason: "bench"}, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.Create(ctx, r, outbox.Event{Topic: "t", AggregateID: r.ID(), Type: "t.v1", Payload: struct{}{}}); err != nil {
			b.Fatal(err)
		}
	}
	svc := app.New(app.Deps{Repo: st, Filter: filter})
	if built, err := svc.RebuildFilter(ctx); !built || err != nil {
		b.Fatalf("rebuild: %v %v", built, err)
	}
	m := chi.NewRouter()
	api.Mount(m, svc)
	srv := httptest.NewServer(sidecar{m})
	b.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	client := aftersalesclient.New(daprx.NewInvoker(port))

	mirror := mirrortest.Started(b, ctx, aftersalesclient.NewCancelFilter(rdb, prefix))
	b.Run("filter_no_memory", func(b *testing.B) {
		i, fromRedis := 0, 0
		for b.Loop() {
			i++
			maybe, memory, err := mirror.MayHaveFrom(ctx, "X-"+strconv.Itoa(i%100000))
			if err != nil || (maybe && i < 3) {
				b.Fatal(maybe, err)
			}
			if !memory {
				fromRedis++
			}
		}
		// A lapse (a starved machine) sends lookups to Redis: this path
		// would then not be what it says.
		if fromRedis*100 > i {
			b.Fatalf("%d of %d lookups out of the mirror's lease", fromRedis, i)
		}
	})
	b.Run("filter_no_redis", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if maybe, err := filter.MayHave(ctx, "X-"+strconv.Itoa(i%100000)); err != nil || (maybe && i < 3) {
				b.Fatal(maybe, err)
			}
		}
	})
	b.Run("aftersales_direct", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			q, err := client.CancelOfOrder(ctx, "C1", "X-"+strconv.Itoa(i%100000))
			if err != nil || q != nil {
				b.Fatal(q, err)
			}
		}
	})
}
