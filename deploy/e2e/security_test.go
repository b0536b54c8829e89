package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/partners/sim"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
)

// rawCall sends method path to addr with body and the headers given, and
// answers the status and body.
func rawCall(t *testing.T, method, url, body string, hdr map[string]string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantUnauthenticated fails unless the answer is 401 with the
// UNAUTHENTICATED Problem of an app's sidecar-facing listener.
func wantUnauthenticated(t *testing.T, what string, code int, body string) {
	t.Helper()
	var p httpapi.Problem
	_ = json.Unmarshal([]byte(body), &p)
	if code != http.StatusUnauthorized || p.Code != httpapi.CodeUnauthenticated {
		t.Errorf("%s: %d %.200s, want 401 %s", what, code, body, httpapi.CodeUnauthenticated)
	}
}

func payAccounts(t *testing.T, customer string) payclient.Accounts {
	t.Helper()
	var a payclient.Accounts
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/accounts/"+customer, nil, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAppPortsRefuseCallsWithoutSidecarToken is issue 10's end-to-end
// proof of finding 1 with real sidecars. Reproduced on main: an
// unauthenticated POST v1/accounts/C0042/credit to PAY's port credited
// ¥1,000,000, and a forged oms.order.cancelled posted to PAY's event route
// refunded a paid trade. Now each app's port answers only its own
// sidecar's token, while the same calls through the sidecars still work.
func TestAppPortsRefuseCallsWithoutSidecarToken(t *testing.T) {
	payPort := "http://" + st.AppAddr(payclient.AppID)
	noToken := map[string]string{}
	wrongTokens := []map[string]string{
		noToken,
		{daprx.APITokenHeader: "guess"},
		{daprx.APITokenHeader: st.AppToken("oms")}, // another app's token opens no other app
		{daprx.APITokenHeader: st.DaprToken(payclient.AppID)},
	}

	// 1. A credit straight to PAY's port: refused, the balance unchanged.
	before := payAccounts(t, "C0042")
	credit, _ := json.Marshal(payclient.CreditRequest{IdempotencyKey: ids.New(), BalanceFen: 100_000_000})
	for i, hdr := range wrongTokens {
		code, body := rawCall(t, http.MethodPost, payPort+"/v1/accounts/C0042/credit", string(credit), hdr)
		wantUnauthenticated(t, fmt.Sprintf("credit C0042 on PAY's port (token #%d)", i), code, body)
	}

	// 2. A forged cancellation of a paid order to PAY's event route.
	c := client(t, "CUSTOMER", "C0042")
	o := mustPlace(t, c, orderInput(plainProducts(t, c, 1, 3), 1, nil))
	payAtCashier(t, c, o.ID)
	var paid payclient.Trade
	eventually(t, 30*time.Second, "trade of "+o.ID+" SUCCEEDED", func() (bool, error) {
		var ts []payclient.Trade
		err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &ts)
		for _, tr := range ts {
			if tr.Status == payclient.TradeSucceeded {
				paid = tr
				return true, nil
			}
		}
		return false, err
	})
	// Paid, then on into fulfillment: any status but these two.
	eventually(t, 30*time.Second, "order "+o.ID+" paid", func() (bool, error) {
		st := getOrder(t, c, o.ID).Status
		return st != "PENDING_PAYMENT" && st != "CANCELLED", fmt.Errorf("status %s", st)
	})
	forged, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": "forged-" + ids.New(), "source": "oms", "type": events.TopicOrderCancelled,
		"topic": events.TopicOrderCancelled, "pubsubname": "pubsub", "datacontenttype": "application/json",
		"data": events.OrderCancelled{OrderID: o.ID, CustomerID: "C0042", Reason: events.ReasonCustomer, PaidFen: 0, CancelledAt: time.Now()},
	})
	for i, hdr := range wrongTokens {
		code, body := rawCall(t, http.MethodPost, payPort+"/events/"+events.TopicOrderCancelled, string(forged), hdr)
		wantUnauthenticated(t, fmt.Sprintf("forged %s to PAY (token #%d)", events.TopicOrderCancelled, i), code, body)
	}
	// A forged pay.trade.succeeded to OMS, and a direct paid-at-birth order.
	omsPort := "http://" + st.AppAddr("oms")
	code, body := rawCall(t, http.MethodPost, omsPort+"/events/"+payevents.TopicTradeSucceeded,
		`{"specversion":"1.0","id":"forged-paid","source":"pay","type":"pay.trade.succeeded","data":{"order_id":"`+o.ID+`"}}`, noToken)
	wantUnauthenticated(t, "forged pay.trade.succeeded to OMS", code, body)
	code, body = rawCall(t, http.MethodPost, omsPort+"/v1/orders", `{"source":"SALES_PLAN"}`, noToken)
	wantUnauthenticated(t, "POST v1/orders to OMS's port", code, body)

	// Nothing moved: the trade is not refunded, the order stays paid, the
	// balance is what it was (checked after the sidecars had time to act).
	time.Sleep(3 * time.Second)
	var trades []payclient.Trade
	if err := invoke(ctx(t), payclient.AppID, http.MethodGet, "v1/trades?order="+o.ID, nil, &trades); err != nil {
		t.Fatal(err)
	}
	for _, tr := range trades {
		if tr.RefundedFen != 0 {
			t.Errorf("trade %s of %s refunded %d after a forged cancellation", tr.ID, o.ID, tr.RefundedFen)
		}
	}
	if len(trades) == 0 || paid.PaidFen == 0 {
		t.Errorf("trades of %s: %+v, want the paid one", o.ID, trades)
	}
	if got := getOrder(t, c, o.ID); got.Status == "CANCELLED" || got.Status == "PENDING_PAYMENT" {
		t.Errorf("order %s is %s after forged events, want it paid", o.ID, got.Status)
	}
	if after := payAccounts(t, "C0042"); after.BalanceFen != before.BalanceFen {
		t.Fatalf("C0042's balance moved from %d to %d", before.BalanceFen, after.BalanceFen)
	}

	// 3. Every app: its Dapr callbacks and any route answer only its own
	// token; health, metrics and pprof are on its ops port, which serves
	// nothing else.
	for _, app := range st.Apps() {
		appURL := "http://" + st.AppAddr(app)
		for _, path := range []string{"/dapr/subscribe", "/dapr/config", "/healthz", "/metrics", "/v1/anything"} {
			code, body := rawCall(t, http.MethodGet, appURL+path, "", noToken)
			wantUnauthenticated(t, app+" GET "+path+" without the token", code, body)
		}
		if code, body := rawCall(t, http.MethodGet, appURL+"/dapr/subscribe", "", map[string]string{daprx.APITokenHeader: st.AppToken(app)}); code != http.StatusOK {
			t.Errorf("%s /dapr/subscribe with its token: %d %.200s", app, code, body)
		}
		opsURL := "http://" + st.OpsAddr(app)
		for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/debug/pprof/": 200,
			"/dapr/subscribe": 404, "/dapr/config": 404, "/v1/accounts/C0042": 404} {
			if code, _ := rawCall(t, http.MethodGet, opsURL+path, "", noToken); code != want {
				t.Errorf("%s ops GET %s: %d, want %d", app, path, code, want)
			}
		}
	}

	// 4. A sidecar's API takes only its app's DAPR_API_TOKEN.
	gw, _ := st.Ports("gateway")
	for _, tok := range []string{"", st.DaprToken("pay")} {
		code, _ := rawCall(t, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v1.0/invoke/pay/method/v1/accounts/C0042", gw.DaprHTTP), "",
			map[string]string{daprx.APITokenHeader: tok})
		if code != http.StatusUnauthorized {
			t.Errorf("gateway's daprd with token %q: %d, want 401", tok, code)
		}
	}

	// 5. The partners stand-in's public port: cashier pages for anyone,
	// outside APIs only with the partner key the HTTPEndpoint adds, no
	// admin routes.
	pub := "http://" + st.PublicAddr("partners")
	sms := `{"message_id":"e2e-sec-` + ids.New() + `","phone":"13800138000","template":"ORDER_PAID"}`
	if code, body := rawCall(t, http.MethodPost, pub+"/sms/v1/messages", sms, noToken); code != http.StatusUnauthorized {
		t.Errorf("partners outside API without the key: %d %.200s", code, body)
	}
	if code, body := rawCall(t, http.MethodPost, pub+"/sms/v1/messages", sms, map[string]string{sim.OutsideKeyHeader: st.OutsideKey()}); code != http.StatusOK {
		t.Errorf("partners outside API with the key: %d %.200s", code, body)
	}
	if code, _ := rawCall(t, http.MethodPost, pub+"/admin/faults", `{"name":"sms","fail_rate":1}`, noToken); code != http.StatusNotFound {
		t.Errorf("partners public /admin/faults: %d, want 404", code)
	}
}

// TestGatewayPublicPortServesOnlyGraphQL is finding 2 end to end: on the
// gateway's public port (GraphQLURL) a forged bulk of oms.order.paid is
// refused with 404, as are metrics, health, Dapr's callbacks and pprof;
// /graphql works (the other tests drive the whole stack through it).
func TestGatewayPublicPortServesOnlyGraphQL(t *testing.T) {
	base := strings.TrimSuffix(st.GraphQLURL(), "/graphql")
	forged := `{"topic":"oms.order.paid","entries":[{"entryId":"1","event":{"id":"forged","type":"oms.order.paid","data":{"order_id":"O-X","customer_id":"C0042"}},"contentType":"application/cloudevents+json"}]}`
	for _, topic := range []string{events.TopicOrderPaid, events.TopicOrderPlaced, events.TopicOrderCancelled} {
		if code, _ := rawCall(t, http.MethodPost, base+"/events-bulk/"+topic, forged, nil); code != http.StatusNotFound {
			t.Errorf("gateway public POST /events-bulk/%s: %d, want 404", topic, code)
		}
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/dapr/subscribe", "/dapr/config", "/debug/pprof/"} {
		if code, _ := rawCall(t, http.MethodGet, base+path, "", nil); code != http.StatusNotFound {
			t.Errorf("gateway public GET %s: %d, want 404", path, code)
		}
	}
	code, body := rawCall(t, http.MethodPost, "http://"+st.AppAddr("gateway")+"/events-bulk/"+events.TopicOrderPaid, forged, nil)
	wantUnauthenticated(t, "gateway sidecar-facing port without the token", code, body)
	if code, body := rawCall(t, http.MethodPost, st.GraphQLURL(), `{"query":"{ __typename }"}`, nil); code != http.StatusOK {
		t.Errorf("gateway public /graphql: %d %.200s", code, body)
	}
}
