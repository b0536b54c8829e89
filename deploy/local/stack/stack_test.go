package stack

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/platform/devauth"
)

const echoPkg = "deploy/local/stack/testdata/echo"

func echoOptions(t *testing.T, name string) Options {
	return Options{
		Name:         name,
		RunDir:       t.TempDir(),
		Apps:         []string{"echo-a", "echo-b"},
		Packages:     map[string]string{"echo-a": echoPkg, "echo-b": echoPkg},
		Env:          map[string]string{"ECHO_EXTRA": "all"},
		AppEnv:       map[string]map[string]string{"echo-b": {"ECHO_EXTRA": "b-only"}},
		ReadyTimeout: 90 * time.Second,
		StopTimeout:  10 * time.Second,
	}
}

// TestStackRealSidecars starts placement, the Scheduler and two echo apps with real
// sidecars, and checks service invocation through the sqlite name
// resolver, pub/sub through Redis in the stack's own DB, the env contract,
// and Kill + Restart.
func TestStackRealSidecars(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	s, err := Start(ctx, echoOptions(t, "stacktest"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("stack ready in %s (redis db %d)", time.Since(start).Round(time.Millisecond), s.RedisDB())
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{"echo-a", "echo-a.daprd", "echo-b", "echo-b.daprd", "placement", "scheduler"} {
				t.Logf("%s log:\n%s", n, s.LogTail(n, 30))
			}
		}
		_ = s.Stop(context.Background())
	})

	// Every listener distinct.
	seen := map[int]string{}
	pp := s.Placement()
	for what, port := range map[string]int{"placement": pp.GRPC, "placement health": pp.Health, "placement metrics": pp.Metrics, "placement raft": pp.Raft} {
		seen[port] = what
	}
	for i, port := range s.Scheduler().list() {
		if other, dup := seen[port]; dup {
			t.Fatalf("port %d used twice: %s and scheduler#%d", port, other, i)
		}
		seen[port] = fmt.Sprintf("scheduler#%d", i)
	}
	for _, app := range s.Apps() {
		p, _ := s.Ports(app)
		if p.Ops == 0 || p.Public != 0 {
			t.Fatalf("%s ports %+v: want an ops port and no public one", app, p)
		}
		for i, port := range p.list() {
			if other, dup := seen[port]; dup {
				t.Fatalf("port %d used twice: %s and %s#%d", port, other, app, i)
			}
			seen[port] = fmt.Sprintf("%s#%d", app, i)
		}
	}

	// Env contract.
	var env map[string]string
	getJSON(t, "http://"+s.AppAddr("echo-b")+"/env", s.AppToken("echo-b"), &env)
	pb, _ := s.Ports("echo-b")
	want := map[string]string{
		"HARVEST_APP_ID":     "echo-b",
		"HARVEST_HTTP_ADDR":  s.AppAddr("echo-b"),
		"HARVEST_OPS_ADDR":   s.OpsAddr("echo-b"),
		"APP_API_TOKEN":      s.AppToken("echo-b"),
		"DAPR_API_TOKEN":     s.DaprToken("echo-b"),
		"DAPR_HTTP_PORT":     strconv.Itoa(pb.DaprHTTP),
		"DAPR_GRPC_PORT":     strconv.Itoa(pb.DaprGRPC),
		"HARVEST_REDIS_ADDR": "127.0.0.1:6379",
		"HARVEST_REDIS_DB":   strconv.Itoa(s.RedisDB()),
		"HARVEST_PUBSUB":     "pubsub",
		"HARVEST_ENV":        "development",
		"HARVEST_JWT_SECRET": s.JWTSecret(),
		"ECHO_EXTRA":         "b-only",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if dsn := env["HARVEST_MYSQL_DSN"]; !strings.HasPrefix(dsn, "root@tcp(127.0.0.1:3306)/e2e_") || !strings.HasSuffix(dsn, "_echo-b?parseTime=true&loc=UTC") {
		t.Errorf("HARVEST_MYSQL_DSN = %q", dsn)
	}
	if s.JWTSecret() == devauth.DevSecret || s.RedisDB() == 0 {
		t.Errorf("test stack uses the dev secret or redis db 0")
	}
	// Tokens: long, random, one pair per app.
	toks := map[string]bool{}
	for _, app := range s.Apps() {
		for _, tok := range []string{s.AppToken(app), s.DaprToken(app)} {
			if len(tok) < 32 || toks[tok] {
				t.Errorf("%s: token %q short or shared", app, tok)
			}
			toks[tok] = true
		}
	}
	// The app's port refuses a call without its token (the echo app checks
	// it as runtime.App does) …
	if code := statusWith(http.MethodGet, "http://"+s.AppAddr("echo-b")+"/hello", ""); code != http.StatusUnauthorized {
		t.Errorf("echo-b without APP_API_TOKEN: %d, want 401", code)
	}
	// … and the sidecar's API refuses a call without its DAPR_API_TOKEN.
	if code := statusWith(http.MethodGet, s.DaprHTTPURL("echo-a")+"/v1.0/invoke/echo-b/method/hello", ""); code != http.StatusUnauthorized {
		t.Errorf("echo-a's daprd without DAPR_API_TOKEN: %d, want 401", code)
	}

	// Service invocation: echo-a's sidecar → sqlite resolver → echo-b's sidecar → echo-b.
	// It also shows echo-b's daprd sends echo-b its APP_API_TOKEN.
	invokeURL := s.DaprHTTPURL("echo-a") + "/v1.0/invoke/echo-b/method/hello"
	daprTok := s.DaprToken("echo-a")
	first := invoke(t, invokeURL, daprTok)
	if first.App != "echo-b" {
		t.Fatalf("invoke answered by %q, want echo-b", first.App)
	}

	// Pub/sub: publish through echo-a's sidecar, echo-b subscribes.
	publish(t, s.DaprHTTPURL("echo-a")+"/v1.0/publish/pubsub/stacktest", daprTok, `{"n":1}`)
	waitFor(t, 30*time.Second, "echo-b receives the event", func() bool {
		var got []json.RawMessage
		getJSON(t, "http://"+s.AppAddr("echo-b")+"/received", s.AppToken("echo-b"), &got)
		return len(got) == 1 && strings.Contains(string(got[0]), `"n":1`)
	})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: s.RedisDB()})
	defer rdb.Close()
	if typ, err := rdb.Type(ctx, "stacktest").Result(); err != nil || typ != "stream" {
		t.Errorf("redis db %d key stacktest: type %q, err %v; want a stream (redisDB envRef not applied?)", s.RedisDB(), typ, err)
	}

	// Token.
	tok, err := s.Token(devauth.RoleCustomer, "C0001")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := devauth.Parse(s.JWTSecret(), tok); err != nil || c.Subject != "C0001" {
		t.Fatalf("token: %+v, %v", c, err)
	}

	// Crash and restart echo-b.
	pidsBefore := s.PIDs()
	if err := s.Kill("echo-b"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"echo-b", "echo-b.daprd"} {
		if alive(pidsBefore[n]) {
			t.Fatalf("%s (pid %d) alive after Kill", n, pidsBefore[n])
		}
	}
	if code := statusWith(http.MethodGet, invokeURL, daprTok); code == http.StatusOK {
		t.Fatalf("invoke of a killed app answered 200")
	}
	rs := time.Now()
	if err := s.Restart(ctx, "echo-b"); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	t.Logf("echo-b restarted and ready in %s", time.Since(rs).Round(time.Millisecond))
	var second echoAnswer
	waitFor(t, 30*time.Second, "invoke after restart", func() bool {
		second, _ = tryInvoke(invokeURL, daprTok)
		return second.App == "echo-b"
	})
	if second.PID == first.PID {
		t.Fatalf("same pid %d after restart", second.PID)
	}
	if p, _ := s.Ports("echo-b"); p != pb {
		t.Fatalf("ports changed on restart: %+v → %+v", pb, p)
	}

	// Stop: every child gone, the lease released.
	pids := s.PIDs()
	if len(pids) != 6 {
		t.Fatalf("PIDs = %v, want 6 children", pids)
	}
	ss := time.Now()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stopped in %s", time.Since(ss).Round(time.Millisecond))
	for n, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) alive after Stop", n, pid)
		}
	}
	c0 := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer c0.Close()
	if n, _ := c0.Exists(ctx, redisLeaseKey+strconv.Itoa(s.RedisDB())).Result(); n != 0 {
		t.Errorf("redis db lease still held after Stop")
	}
	if c, err := net.DialTimeout("tcp", s.AppAddr("echo-a"), time.Second); err == nil {
		c.Close()
		t.Errorf("echo-a still listening after Stop")
	}
}

// TestChildrenDieWithLauncher kills a launcher (this test binary re-run as
// a helper) with SIGKILL and checks its sidecars and apps die with it.
func TestChildrenDieWithLauncher(t *testing.T) {
	if os.Getenv("HARVEST_STACK_HELPER") == "1" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLauncher$", "-test.v")
	cmd.Env = append(os.Environ(), "HARVEST_STACK_HELPER=1", "HARVEST_STACK_HELPER_RUNDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The helper's -test.v output (its t.Fatal among it) comes on stdout:
	// keep it for the failure message instead of dropping it.
	var pids map[string]int
	var said strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "PIDS "); ok {
			if err := json.Unmarshal([]byte(line), &pids); err != nil {
				t.Fatal(err)
			}
			break
		}
		said.WriteString(sc.Text() + "\n")
	}
	if len(pids) != 6 {
		t.Fatalf("helper reported pids %v; its output:\n%s", pids, said.String())
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	waitFor(t, 10*time.Second, "children die with the launcher", func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}

// TestHelperLauncher is the launcher TestChildrenDieWithLauncher kills.
func TestHelperLauncher(t *testing.T) {
	if os.Getenv("HARVEST_STACK_HELPER") != "1" {
		t.Skip("helper for TestChildrenDieWithLauncher")
	}
	o := echoOptions(t, "stacktest-orphan")
	o.RunDir = os.Getenv("HARVEST_STACK_HELPER_RUNDIR")
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s.PIDs())
	fmt.Printf("PIDS %s\n", b)
	time.Sleep(time.Minute)
}

func TestFixedPortsLayout(t *testing.T) {
	t.Parallel()
	s := &Stack{opts: Options{Name: "layout", FixedPorts: true, Apps: []string{"pay", "gateway", "oms", "inventory", "partners"}}}
	if err := s.allocatePorts(); err != nil {
		t.Skipf("dev ports busy (a dev stack running?): %v", err)
	}
	if got := s.GraphQLURL(); got != "http://127.0.0.1:8080/graphql" {
		t.Fatalf("GraphQLURL = %s", got)
	}
	if g := s.ports["gateway"]; g.App != DevBasePort+10 || g.Ops != DevBasePort+15 {
		t.Fatalf("gateway ports %+v: app and ops in its block", g)
	}
	if p := s.ports["partners"]; p.Public != DevBasePort+46 || s.PublicAddr("partners") != fmt.Sprintf("127.0.0.1:%d", DevBasePort+46) {
		t.Fatalf("partners ports %+v: public at block+6", p)
	}
	if s.PublicAddr("pay") != "" {
		t.Fatalf("pay has a public listener: %+v", s.ports["pay"])
	}
	seen := map[int]bool{s.pports.GRPC: true, s.pports.Health: true, s.pports.Metrics: true, s.pports.Raft: true}
	for i, port := range s.sports.list() {
		if port != DevBasePort+4+i || seen[port] {
			t.Fatalf("scheduler ports %+v: want %d..%d in placement's block", s.sports, DevBasePort+4, DevBasePort+8)
		}
		seen[port] = true
	}
	for app, p := range s.ports {
		for _, port := range p.list() {
			if seen[port] {
				t.Fatalf("%s: port %d repeats", app, port)
			}
			seen[port] = true
		}
	}
	if p := s.ports["inventory"]; p.App != DevBasePort+20 {
		t.Fatalf("inventory app port %d, want %d (sorted second)", p.App, DevBasePort+20)
	}
}

func TestRenderConfigUsesStackResolverFile(t *testing.T) {
	t.Parallel()
	o := Options{Name: "render", RunDir: t.TempDir(), Apps: []string{"x"}}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	s := &Stack{opts: o}
	if err := s.render(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `connectionString: "`+o.RunDir+`/nameresolution.db"`) {
		t.Fatalf("rendered config:\n%s", b)
	}
	for _, f := range []string{"pubsub.yaml", "statestore.yaml", "resiliency.yaml"} {
		if _, err := os.Stat(s.resources + "/" + f); err != nil {
			t.Errorf("resources: %v", err)
		}
	}
}

// TestRenderOutsideEndpoint: the rendered HTTPEndpoint partners-outside
// points at the partners stand-in's public port and carries the stack's
// partner key, which partners is given as PARTNERS_OUTSIDE_KEY; OMS's and
// partners' env name their listeners and tokens.
func TestRenderOutsideEndpoint(t *testing.T) {
	t.Parallel()
	o := Options{Name: "render-outside", RunDir: t.TempDir(), Apps: []string{"oms", "partners", "gateway"}}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	s := &Stack{opts: o}
	if err := s.allocatePorts(); err != nil {
		t.Fatal(err)
	}
	s.makeTokens()
	if err := s.render(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.resources + "/" + OutsideEndpointFile)
	if err != nil {
		t.Fatal(err)
	}
	pp := s.ports["partners"]
	if !strings.Contains(string(b), fmt.Sprintf("baseUrl: http://127.0.0.1:%d\n", pp.Public)) ||
		!strings.Contains(string(b), "name: X-Partner-Key\n      value: \""+s.OutsideKey()+"\"") {
		t.Fatalf("rendered %s:\n%s", OutsideEndpointFile, b)
	}
	pe := s.appEnv("partners")
	if pe["PARTNERS_OUTSIDE_KEY"] != s.OutsideKey() || pe["PARTNERS_PUBLIC_ADDR"] != s.PublicAddr("partners") {
		t.Fatalf("partners env %v", pe)
	}
	ge := s.appEnv("gateway")
	if ge["HARVEST_PUBLIC_ADDR"] != strings.TrimSuffix(strings.TrimPrefix(s.GraphQLURL(), "http://"), "/graphql") ||
		ge["HARVEST_HTTP_ADDR"] == ge["HARVEST_PUBLIC_ADDR"] || ge["HARVEST_OPS_ADDR"] != s.OpsAddr("gateway") {
		t.Fatalf("gateway env %v", ge)
	}
	oe := s.appEnv("oms")
	if oe["APP_API_TOKEN"] != s.AppToken("oms") || oe["DAPR_API_TOKEN"] != s.DaprToken("oms") || oe["APP_API_TOKEN"] == ge["APP_API_TOKEN"] {
		t.Fatalf("oms env tokens %q %q", oe["APP_API_TOKEN"], oe["DAPR_API_TOKEN"])
	}
	if _, ok := oe["PARTNERS_OUTSIDE_KEY"]; ok {
		t.Fatal("oms is given the partner key; only its HTTPEndpoint carries it")
	}
}

type echoAnswer struct {
	App string `json:"app"`
	PID int    `json:"pid"`
}

func tryInvoke(url, daprToken string) (echoAnswer, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("dapr-api-token", daprToken)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return echoAnswer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return echoAnswer{}, fmt.Errorf("%s: %d %s", url, resp.StatusCode, b)
	}
	var a echoAnswer
	err = json.Unmarshal(b, &a)
	return a, err
}

func invoke(t *testing.T, url, daprToken string) echoAnswer {
	t.Helper()
	a, err := tryInvoke(url, daprToken)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// statusWith answers the status of method url with header dapr-api-token
// token (none when empty), 0 when it fails.
func statusWith(method, url, token string) int {
	req, _ := http.NewRequest(method, url, nil)
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func publish(t *testing.T, url, daprToken, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", daprToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("publish: %d %s", resp.StatusCode, b)
	}
}

func getJSON(t *testing.T, url, appToken string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("dapr-api-token", appToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive reports whether pid is a live, not-zombie process.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Field 3 is the state; Z is a zombie (dead, not yet reaped).
	if i := strings.LastIndexByte(string(b), ')'); i > 0 && len(b) > i+2 {
		return b[i+2] != 'Z'
	}
	return true
}

func TestRunDirLockRefusesSecondStack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := tryLockFile(dir + "/.lock")
	if err != nil {
		t.Fatal(err)
	}
	o := echoOptions(t, "lockcheck")
	o.RunDir = dir
	if _, err := Start(context.Background(), o); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Start on a locked run dir: err = %v, want 'in use'", err)
	}
	unlock()
}

// TestStartTriesAgainWhenAPortIsTakenMeanwhile takes the port placement
// was given between the pick and placement's bind, as the source port of
// another process's outgoing connection can: the start is made again on
// new ports and succeeds.
func TestStartTriesAgainWhenAPortIsTakenMeanwhile(t *testing.T) {
	// An outgoing connection (to Redis) whose source port is placement's.
	var taken []net.Conn
	portsPicked = func(s *Stack) {
		if len(taken) == 0 {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.pports.GRPC}}
			c, err := d.Dial("tcp", "127.0.0.1:6379")
			if err != nil {
				t.Errorf("take placement's port %d: %v", s.pports.GRPC, err)
				return
			}
			taken = append(taken, c)
		}
	}
	defer func() {
		portsPicked = nil
		for _, l := range taken {
			l.Close()
		}
	}()
	var progress strings.Builder
	o := echoOptions(t, "stacktest-retry")
	o.Progress = &progress
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Stop(context.Background())
	if len(taken) != 1 {
		t.Fatalf("took %d ports, want 1", len(taken))
	}
	if got := s.Placement().GRPC; got == taken[0].LocalAddr().(*net.TCPAddr).Port {
		t.Fatalf("placement on the taken port %d", got)
	}
	if !strings.Contains(progress.String(), "a port was taken while starting (attempt 1 of 3)") {
		t.Fatalf("progress does not say the start was tried again:\n%s", progress.String())
	}
}
