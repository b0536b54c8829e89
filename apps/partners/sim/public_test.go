package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/partners/sim"
)

// TestPublicListenerRoutesAndPartnerKey: the stand-in's public router
// serves the cashier pages to anyone, the outside APIs only with the
// partner key (what the HTTPEndpoint adds), and nothing else: no admin
// switch, no channel API PAY invokes.
func TestPublicListenerRoutesAndPartnerKey(t *testing.T) {
	o := newOutside(t, sim.Config{OutsideKey: "partner-key-0123456789"})
	r := chi.NewRouter()
	o.s.MountPublic(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	smsBody, _ := json.Marshal(pc.SMS{MessageID: "pub:1", Phone: "13800138000", Template: "ORDER_PAID"})
	do := func(method, path, body, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set(sim.OutsideKeyHeader, key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, key := range []string{"", "wrong", "partner-key-012345678"} {
		if code, body := do(http.MethodPost, "/sms/v1/messages", string(smsBody), key); code != http.StatusUnauthorized || !strings.Contains(body, "UNAUTHENTICATED") {
			t.Errorf("SMS with key %q: %d %s, want 401", key, code, body)
		}
	}
	if got := o.received(t, sim.APISMS, "pub:1"); len(got) != 0 {
		t.Fatalf("an SMS without the key was recorded: %+v", got)
	}
	if code, body := do(http.MethodPost, "/sms/v1/messages", string(smsBody), "partner-key-0123456789"); code != http.StatusOK {
		t.Errorf("SMS with the key: %d %s", code, body)
	}
	// The cashier answers anyone (a trade that does not exist: its own 404).
	if code, body := do(http.MethodGet, "/cashier/WECHAT/T-NONE", "", ""); code != http.StatusNotFound || !strings.Contains(body, "TRADE_NOT_EXIST") {
		t.Errorf("cashier: %d %s", code, body)
	}
	for _, c := range [][2]string{
		{http.MethodPost, "/admin/faults"}, {http.MethodGet, "/admin/received"}, {http.MethodPost, "/admin/risk-rules"},
		{http.MethodPost, "/wechat/v3/pay/transactions"}, {http.MethodPost, "/alipay/gateway.do"},
		{http.MethodPost, "/fms/v1/receipts"}, {http.MethodPost, "/fms/v1/refund-audits/A1/approve"},
	} {
		if code, _ := do(c[0], c[1], `{}`, "partner-key-0123456789"); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("public %s %s: %d, want 404", c[0], c[1], code)
		}
	}
}

// TestPublicListenerRefusesWithoutKey: a stand-in started without
// PARTNERS_OUTSIDE_KEY refuses every outside call on its public listener.
func TestPublicListenerRefusesWithoutKey(t *testing.T) {
	o := newOutside(t, sim.Config{})
	r := chi.NewRouter()
	o.s.MountPublic(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/risk/v1/scores", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("outside call with no key configured: %d, want 401", resp.StatusCode)
	}
}
