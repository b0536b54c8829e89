package sim

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
)

// OutsideKeyHeader carries the API key the outside APIs authenticate
// their caller by on the public listener, as the real systems' gateways
// do: the caller's Dapr HTTPEndpoint (components/local/partners-outside.yaml)
// adds it to every call.
const OutsideKeyHeader = "X-Partner-Key"

// MountPublic registers on r, the public listener's router, what the
// outside world reaches without a sidecar: the channels' cashier pages
// (customers' browsers) and the outside APIs, behind the partner key.
// Nothing else of the stand-in (its admin routes, the channel APIs PAY
// invokes) is reachable there.
func (s *Server) MountPublic(r chi.Router) {
	r.Get("/cashier/{channel}/{no}", s.cashierShow)
	r.Post("/cashier/{channel}/{no}/pay", s.cashierPay)
	r.Group(func(r chi.Router) {
		r.Use(requireKey(s.cfg.OutsideKey))
		s.mountOutsideAPIs(r)
	})
	// The marketplaces' own APIs authenticate Harvest by each platform's
	// signature, not the partner key.
	s.mountMarketAPIs(r)
}

// requireKey refuses, with 401, a request whose OutsideKeyHeader is not
// key (constant-time, over digests so the length does not leak either);
// an empty key refuses everything.
func requireKey(key string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(key))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got := sha256.Sum256([]byte(r.Header.Get(OutsideKeyHeader)))
			if key == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				httpapi.WriteError(w, r, httpapi.Errorf(http.StatusUnauthorized, httpapi.CodeUnauthenticated,
					"the outside APIs need the partner key in %s", OutsideKeyHeader))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
