package sim

// BI's audience export, the stand-in for the data warehouse a coupon
// campaign asks "which users match these conditions?" (DOMAIN 3.2). Its
// users are C0001…C<BIPopulation>; each has a city and an order count
// derived from its number (FNV), so the same conditions always match the
// same users, in the same order. The export pages by cursor (the next user
// number to scan), takes its time (latency "bi") and sometimes fails
// (BIFailRate, and the fault switch "bi"), like a real BI export: a caller
// that keeps the cursor resumes where it stopped.

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
)

// APIBIExport is the audience export's name (latency, faults).
const APIBIExport = "bi.audiences"

// BICities are the cities the stand-in's users live in.
var BICities = []string{"Shanghai", "Beijing", "Hangzhou", "Shenzhen"}

// BIUser is stand-in user n's id, phone and attributes.
func BIUser(n int) (u pc.AudienceUser, city string, orders int) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strconv.Itoa(n)))
	v := h.Sum32()
	return pc.AudienceUser{CustomerID: fmt.Sprintf("C%04d", n), Phone: fmt.Sprintf("139%08d", n%100_000_000)},
		BICities[v%uint32(len(BICities))], int(v>>8) % 40
}

// BIMatches reports whether user n meets the conditions.
func BIMatches(n int, c pc.AudienceConditions) bool {
	_, city, orders := BIUser(n)
	return orders >= c.MinOrders && (len(c.Cities) == 0 || slices.Contains(c.Cities, city))
}

func (s *Server) biExport(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIBIExport) {
		return
	}
	if s.cfg.BIFailRate > 0 && s.rand() < s.cfg.BIFailRate {
		httpapi.WriteError(w, r, httpapi.Errorf(http.StatusServiceUnavailable, pc.CodeUnavailable, "BI export is busy; retry from the same cursor"))
		return
	}
	var in pc.AudienceRequest
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	start := 1
	if in.Cursor != "" {
		n, err := strconv.Atoi(in.Cursor)
		if err != nil || n < 1 {
			httpapi.WriteError(w, r, httpapi.Errorf(http.StatusBadRequest, pc.CodeRejected, "cursor %q is not one this export gave", in.Cursor))
			return
		}
		start = n
	}
	limit := in.Limit
	if limit <= 0 || limit > 5_000 {
		limit = 1_000
	}
	out := pc.AudiencePage{Users: make([]pc.AudienceUser, 0, limit)}
	n := start
	for ; n <= s.cfg.BIPopulation && len(out.Users) < limit && n < start+50*limit; n++ {
		if BIMatches(n, in.Conditions) {
			u, _, _ := BIUser(n)
			out.Users = append(out.Users, u)
		}
	}
	out.Done = n > s.cfg.BIPopulation
	out.NextCursor = strconv.Itoa(n)
	httpapi.WriteJSON(w, http.StatusOK, out)
}
