// Package e2e drives the whole Harvest stack — placement, the Scheduler, every app and its
// own daprd sidecar, MariaDB and Redis — through the gateway's GraphQL API,
// as the front-ends do. TestMain starts one stack for the package on free
// ports, with its own databases and Redis DB, and stops it at the end.
package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/daprx"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/deploy/gqlc"
	"github.com/harvest/harvest/deploy/local/stack"
)

var st *stack.Stack

// channelsCrashFile is where channels' development fault marks that it
// died mid-pull (TestDouyinPullKilledBetweenFetchingAPageAndSavingItsCursorLosesAndDoublesNothing).
var channelsCrashFile = filepath.Join(os.TempDir(), "harvest-e2e-channels-crash-"+strings.ToLower(ids.New()))

// payDeadline is short so expiry is observable within a test.
const payDeadline = 12 * time.Second

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// HARVEST_EXPIRY_REMINDERS=order|window in the test's environment runs
	// OMS with that design of payment-deadline reminders (default: OMS's).
	var omsEnv map[string]string
	if d := os.Getenv("HARVEST_EXPIRY_REMINDERS"); d != "" {
		omsEnv = map[string]string{"HARVEST_EXPIRY_REMINDERS": d}
		fmt.Fprintln(os.Stderr, "e2e: oms runs with HARVEST_EXPIRY_REMINDERS="+d)
	}
	var err error
	st, err = stack.Start(ctx, stack.Options{
		// after-sales exits at the worst moment of a cancel asking for it
		// (TestAfterSalesKilledMidCancel).
		// Its pushes' lease is short, so a push a killed after-sales had in
		// hand comes back quickly (TestAfterSalesKilledMidPush); channels
		// dies once after fetching the second page of a pull.
		AppEnv: map[string]map[string]string{"oms": omsEnv, "aftersales": {"HARVEST_AFTERSALES_FAULTS": "true",
			"HARVEST_AFTERSALES_PUSH_LEASE": "15s"},
			"channels": {"HARVEST_CHANNELS_FAULTS": channelsCrashFile, "HARVEST_CHANNELS_PULL_PAGE": "5", "HARVEST_CHANNELS_PULL_OVERLAP": "1m",
				"HARVEST_CHANNELS_SWEEP_IDLE": "5s", "HARVEST_CHANNELS_SWEEP_EVERY": "1s"}},
		RepoRoot: root,
		// A name of its own: two test runs on one machine must not share a
		// run directory (its name-resolution file, logs and pid file).
		Name:     "e2e-" + strings.ToLower(ids.New()[20:]),
		KeepData: os.Getenv("HARVEST_KEEP_E2E") != "",
		Progress: os.Stderr,
		Env: map[string]string{
			"HARVEST_PAY_DEADLINE": payDeadline.String(),
			// Orders paid through ALIPAY get longer: the crash tests need time.
			"HARVEST_PAY_DEADLINE_ALIPAY": "90s",
			"PARTNERS_CALLBACK_DELAY":     "300ms",
			// The courier collects and delivers within seconds, not hours.
			"PARTNERS_TMS_COLLECT_DELAY": "1s",
			"PARTNERS_TMS_DELIVER_DELAY": "2s",
			"HARVEST_WMS_UPLOAD_EVERY":   "500ms",
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start stack:", err)
		return 1
	}
	code := m.Run()
	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	if err := st.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "stop stack:", err)
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "stack logs kept in", st.RunDir())
	}
	return code
}

func client(t *testing.T, role, sub string) *gqlc.Client {
	t.Helper()
	tok, err := st.Token(role, sub)
	if err != nil {
		t.Fatal(err)
	}
	return gqlc.New(st.GraphQLURL(), tok)
}

func wsURL() string { return "ws" + strings.TrimPrefix(st.GraphQLURL(), "http") }

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last error: %v)", what, d, lastErr)
}

// invoke calls an app's API through the gateway's sidecar, as another app
// would (with the gateway's DAPR_API_TOKEN, which its sidecar requires).
func invoke(ctx context.Context, app, method, path string, in, out any) error {
	p, _ := st.Ports("gateway")
	return daprx.NewInvoker(p.DaprHTTP, daprx.WithAPIToken(st.DaprToken("gateway"))).Invoke(ctx, app, method, path, in, out)
}

// callApp sends a request straight to app's sidecar-facing port, as its
// sidecar would: with the app's APP_API_TOKEN (tests only; nothing else
// holds it).
func callApp(app, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, "http://"+st.AppAddr(app)+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set(daprx.APITokenHeader, st.AppToken(app))
	return http.DefaultClient.Do(req)
}
