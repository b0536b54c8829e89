// Package stack runs Harvest on one machine the way production runs it:
// every app as its own process beside its own daprd sidecar, a placement
// service for actors, Dapr's Scheduler for actor reminders and jobs,
// MariaDB and Redis. It owns the port layout, the env
// contract the apps read, the per-stack rendering of the Dapr YAML, the
// child processes' lifetimes (they die with the launcher), and readiness.
//
// Every app has the listeners production gives it (apps/platform/runtime):
// the sidecar-facing one, which takes only calls carrying the app's
// APP_API_TOKEN (random per app and stack, given to the app and its daprd;
// DAPR_API_TOKEN likewise for the app's calls to its daprd), an ops
// listener for health and metrics, and for the gateway and the partners
// stand-in a public one.
//
// Two kinds of stack share one machine: the developer stack (`make up`,
// fixed ports, GraphQL on 127.0.0.1:8080, Redis DB 0, databases harvest_*)
// and end-to-end test stacks (free ports, a leased Redis DB that is flushed
// first, databases e2e_<random>_* dropped on Stop). Each stack has its own
// run dir holding its rendered resources, its SQLite name-resolution file,
// its Scheduler's etcd data and its logs, so stacks never see each other's
// apps, streams, reminders or rows.
//
// End-to-end tests use it as:
//
//	s, err := stack.Start(ctx, stack.Options{Name: "e2e-orders"})
//	defer s.Stop(context.Background())
//	tok, _ := s.Token("CUSTOMER", "C0001")
//	// POST s.GraphQLURL() with "Authorization: Bearer "+tok
//	// call an app's own port directly with header dapr-api-token: s.AppToken(app)
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/platform/devauth"
)

// DevName is the name of the developer stack started by `make up`.
const DevName = "dev"

// DevGatewayAddr is where the developer stack's gateway serves GraphQL
// (its public listener).
const DevGatewayAddr = "127.0.0.1:8080"

// DevBasePort is the first port of the developer stack's fixed layout:
// placement takes DevBasePort..+3, the Scheduler +4..+8 (gRPC, healthz,
// metrics, its embedded etcd's client and peer ports), the app sorted i-th takes the block
// DevBasePort+10*(i+1) .. +6 (app, dapr http, dapr grpc, dapr internal
// grpc, dapr metrics, ops, public); the gateway's public port is 8080
// instead.
const DevBasePort = 31000

// Options says which stack to start. Zero values take the defaults named
// on each field.
type Options struct {
	// RepoRoot is the module root (default: found upwards from the working
	// directory by go.mod).
	RepoRoot string
	// Name names the stack: "dev" or a test name (default "dev").
	Name string
	// RunDir holds the stack's rendered resources, logs, name-resolution
	// file, the Scheduler's etcd data (scheduler/) and pid file (default <RepoRoot>/.run/dev for dev, and a fresh
	// <RepoRoot>/.run/<Name>-<random> for any other stack, so two runs of
	// one test package never share a name-resolution file). A running stack
	// holds a lock on it; a second stack on the same dir is refused.
	RunDir string
	// BinDir receives the app binaries and holds daprd, placement and
	// scheduler (default <RepoRoot>/.bin).
	BinDir string
	// AppDir is the directory, relative to RepoRoot, whose subdirectories
	// are the apps (default "apps").
	AppDir string
	// Apps are the app-ids to run (default: every directory in AppDir with
	// a main.go, except platform).
	Apps []string
	// Packages maps an app-id to its main package directory relative to
	// RepoRoot when it is not <AppDir>/<app-id>; several app-ids may share
	// one package (tests run one echo binary under two ids).
	Packages map[string]string
	// RedisAddr is the Redis the apps use (default 127.0.0.1:6379).
	RedisAddr string
	// RedisDB is the Redis DB of this stack. The dev stack uses it as given
	// (normally 0). For any other stack 0 means "lease a free DB in 1..15
	// for the stack's lifetime"; the DB is flushed before the stack starts.
	RedisDB int
	// MySQLServer is the MariaDB server DSN without database (default
	// root@tcp(127.0.0.1:3306)/).
	MySQLServer string
	// DBPrefix prefixes the apps' databases: app X uses <DBPrefix>_X
	// (default "harvest" for dev, "e2e_<random>" otherwise).
	DBPrefix string
	// KeepData keeps a test stack's databases after Stop (dev never drops).
	KeepData bool
	// FixedPorts selects the deterministic dev layout (see DevBasePort);
	// otherwise every port is a free one picked by the OS (tests).
	FixedPorts bool
	// Env is extra environment for every app process.
	Env map[string]string
	// AppEnv is extra environment for one app, applied after Env.
	AppEnv map[string]map[string]string
	// JWTSecret signs and verifies tokens (default devauth.DevSecret for
	// dev, random otherwise).
	JWTSecret string
	// ComponentsDir holds the Dapr components (default
	// <RepoRoot>/components/local); ConfigFile and ResiliencyFile default
	// to <RepoRoot>/dapr/config.yaml and dapr/resiliency.yaml.
	ComponentsDir  string
	ConfigFile     string
	ResiliencyFile string
	// ExtraResources are more directories of Dapr resources (tests).
	ExtraResources []string
	// DaprLogLevel is daprd's, placement's and the Scheduler's --log-level
	// (default warn).
	DaprLogLevel string
	// ReadyTimeout bounds the wait for readiness (default 2m).
	ReadyTimeout time.Duration
	// StopTimeout bounds each stage of Stop before SIGKILL (default 20s).
	StopTimeout time.Duration
	// Logs, when set, also receives every child's output, each line
	// prefixed with its process name. Logs always go to files in
	// <RunDir>/logs/<app>.log and <app>.daprd.log.
	Logs io.Writer
	// SkipBuild uses the binaries already in BinDir.
	SkipBuild bool
	// Progress, when set, receives one line per step (building, starting…).
	Progress io.Writer
}

// AppPorts is where one app and its sidecar listen, all on 127.0.0.1.
type AppPorts struct {
	// App is the sidecar-facing listener (token required), Ops health and
	// metrics, Public the public listener (0 for an app without one).
	App, Ops, Public                              int
	DaprHTTP, DaprGRPC, DaprInternal, DaprMetrics int
}

// PlacementPorts is where placement listens.
type PlacementPorts struct {
	GRPC, Health, Metrics, Raft int
}

// SchedulerPorts is where the Scheduler listens: its gRPC API (what every
// daprd's --scheduler-host-address names), healthz, metrics, and its
// embedded etcd's client and peer ports.
type SchedulerPorts struct {
	GRPC, Health, Metrics, EtcdClient, EtcdPeer int
}

// Stack is a running stack.
type Stack struct {
	opts      Options
	redisDB   int
	releaseDB func()
	daprd     string
	placement string
	scheduler string
	resources string
	config    string
	secret    string
	ports     map[string]AppPorts
	pports    PlacementPorts
	sports    SchedulerPorts
	tokens    map[string]appTokens
	// outsideKey is the partner key the HTTPEndpoint partners-outside
	// adds and the partners stand-in requires on its public listener.
	outsideKey string
	binOf      map[string]string

	unlockRunDir func()

	mu       sync.Mutex
	apps     map[string]*proc
	sidecars map[string]*proc
	place    *proc
	sched    *proc
	stopped  bool
}

// Start builds what is needed, starts placement and every app with its
// sidecar, and returns when all are ready. On any error everything it
// started is stopped again.
//
// A test stack's ports are ones the OS handed out and let go of again
// before the children bind them, from the same range the OS takes the
// source ports of outgoing connections from: on a machine busy with
// other stacks' traffic one of them can be taken in between, and the
// child that should listen there exits with "address already in use".
// Such a start is tried again on new ports, up to startAttempts times.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, o)
		if err == nil || o.FixedPorts || attempt == startAttempts || !portTaken(err) || ctx.Err() != nil {
			return s, err
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "harvest-stack: %s: a port was taken while starting (attempt %d of %d), starting again on new ports\n", o.Name, attempt, startAttempts)
		}
	}
}

const startAttempts = 3

// portsPicked, when set (by tests), is called once a start has picked its
// ports and before any child binds them.
var portsPicked func(*Stack)

// portTaken reports whether a start failed because a child could not bind
// its listener (its log tail is part of the error).
func portTaken(err error) bool {
	return strings.Contains(err.Error(), "address already in use")
}

func start(ctx context.Context, o Options) (*Stack, error) {
	s := &Stack{opts: o, secret: o.JWTSecret, binOf: map[string]string{},
		apps: map[string]*proc{}, sidecars: map[string]*proc{}}
	ok := false
	defer func() {
		if !ok {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = s.Stop(sctx)
		}
	}()
	if err := os.MkdirAll(filepath.Join(o.RunDir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	unlock, err := tryLockFile(filepath.Join(o.RunDir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("run dir %s: %w", o.RunDir, err)
	}
	s.unlockRunDir = unlock
	if o.Name != DevName {
		pruneRunDirs(filepath.Dir(o.RunDir), o.Name, o.RunDir)
	}
	if err := s.prepareRedis(ctx); err != nil {
		return nil, err
	}
	if err := s.binaries(ctx); err != nil {
		return nil, err
	}
	if err := s.allocatePorts(); err != nil {
		return nil, err
	}
	if portsPicked != nil {
		portsPicked(s)
	}
	s.makeTokens()
	if err := s.render(); err != nil { // after the ports: the outside endpoint names partners' port
		return nil, err
	}
	s.progress("starting the Scheduler on 127.0.0.1:%d and placement on 127.0.0.1:%d", s.sports.GRPC, s.pports.GRPC)
	if err := s.startScheduler(); err != nil {
		return nil, err
	}
	if err := s.startPlacement(); err != nil {
		return nil, err
	}
	s.progress("starting %d apps with their sidecars: %s", len(o.Apps), strings.Join(o.Apps, ", "))
	for _, app := range o.Apps {
		if err := s.startApp(app); err != nil {
			return nil, err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, o.ReadyTimeout)
	defer cancel()
	if err := s.waitReady(rctx, o.Apps, true); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func (o *Options) defaults() error {
	if o.RepoRoot == "" {
		root, err := FindRepoRoot()
		if err != nil {
			return err
		}
		o.RepoRoot = root
	}
	root, err := filepath.Abs(o.RepoRoot)
	if err != nil {
		return err
	}
	o.RepoRoot = root
	if o.Name == "" {
		o.Name = DevName
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`).MatchString(o.Name) {
		return fmt.Errorf("stack name %q: use letters, digits, - _ . only", o.Name)
	}
	dev := o.Name == DevName
	abs := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(o.RepoRoot, *p)
		}
	}
	if o.RunDir == "" && !dev {
		o.RunDir = filepath.Join(".run", o.Name+"-"+randomHex(4))
	}
	abs(&o.RunDir, filepath.Join(".run", o.Name))
	abs(&o.BinDir, ".bin")
	abs(&o.ComponentsDir, filepath.Join("components", "local"))
	abs(&o.ConfigFile, filepath.Join("dapr", "config.yaml"))
	abs(&o.ResiliencyFile, filepath.Join("dapr", "resiliency.yaml"))
	if o.AppDir == "" {
		o.AppDir = "apps"
	}
	if len(o.Apps) == 0 {
		apps, err := DiscoverApps(filepath.Join(o.RepoRoot, o.AppDir))
		if err != nil {
			return err
		}
		if len(apps) == 0 {
			return fmt.Errorf("no apps with a main.go in %s", filepath.Join(o.RepoRoot, o.AppDir))
		}
		o.Apps = apps
	}
	seen := map[string]bool{}
	for _, a := range o.Apps {
		if seen[a] {
			return fmt.Errorf("app %q listed twice", a)
		}
		seen[a] = true
	}
	if o.RedisAddr == "" {
		o.RedisAddr = "127.0.0.1:6379"
	}
	if o.MySQLServer == "" {
		o.MySQLServer = "root@tcp(127.0.0.1:3306)/"
	}
	if o.DBPrefix == "" {
		if dev {
			o.DBPrefix = "harvest"
		} else {
			o.DBPrefix = "e2e_" + randomHex(4)
		}
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9_]+$`).MatchString(o.DBPrefix) {
		return fmt.Errorf("db prefix %q: use letters, digits and _", o.DBPrefix)
	}
	if o.JWTSecret == "" {
		if dev {
			o.JWTSecret = devauth.DevSecret
		} else {
			o.JWTSecret = randomHex(32)
		}
	}
	if o.DaprLogLevel == "" {
		o.DaprLogLevel = "warn"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 20 * time.Second
	}
	return nil
}

// FindRepoRoot walks up from the working directory to the directory whose
// go.mod declares module github.com/harvest/harvest.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module\s+github\.com/harvest/harvest\s*$`).Match(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repo root not found: no go.mod for github.com/harvest/harvest above the working directory")
		}
		dir = parent
	}
}

// DiscoverApps lists the subdirectories of dir that hold a main.go, except
// platform, sorted.
func DiscoverApps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	var apps []string
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "platform" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "main.go")); err == nil {
			apps = append(apps, e.Name())
		}
	}
	sort.Strings(apps)
	return apps, nil
}

func (s *Stack) progress(format string, args ...any) {
	if s.opts.Progress != nil {
		fmt.Fprintf(s.opts.Progress, "harvest-stack[%s]: %s\n", s.opts.Name, fmt.Sprintf(format, args...))
	}
}

// OutsideEndpointFile is the HTTPEndpoint through which OMS reaches the
// outside systems (components/local); render points its baseUrl at this
// stack's partners stand-in, and OMS is told its name (OutsideEndpoint).
const (
	OutsideEndpointFile = "partners-outside.yaml"
	OutsideEndpoint     = "partners-outside"
)

var (
	baseURL = regexp.MustCompile(`(?m)^(\s*baseUrl:\s*).*$`)
	// headerValue is the value line of OutsideEndpointFile's one header,
	// the partner key.
	headerValue = regexp.MustCompile(`(?m)^(\s*value:\s*).*$`)
)

// render copies the components and the resiliency policy into the run dir
// and writes the Configuration with this stack's name-resolution file, so
// the stack runs on a snapshot of the YAML and no two stacks share a
// resolver database.
func (s *Stack) render() error {
	o := s.opts
	s.resources = filepath.Join(o.RunDir, "resources")
	if err := os.RemoveAll(s.resources); err != nil {
		return err
	}
	if err := os.MkdirAll(s.resources, 0o755); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(o.ComponentsDir, "*.yaml"))
	if err != nil {
		return err
	}
	files = append(files, o.ResiliencyFile)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read dapr resource: %w", err)
		}
		if filepath.Base(f) == OutsideEndpointFile {
			if p, ok := s.ports["partners"]; ok {
				b = baseURL.ReplaceAll(b, []byte(fmt.Sprintf("${1}http://127.0.0.1:%d", p.Public)))
			}
			b = headerValue.ReplaceAll(b, []byte("${1}"+strconv.Quote(s.outsideKey)))
		}
		if err := os.WriteFile(filepath.Join(s.resources, filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	cfg, err := os.ReadFile(o.ConfigFile)
	if err != nil {
		return fmt.Errorf("read dapr config: %w", err)
	}
	nr := filepath.Join(o.RunDir, "nameresolution.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(nr + suffix) // stale registrations of a previous run
	}
	re := regexp.MustCompile(`(?m)^(\s*connectionString:\s*).*$`)
	if !re.Match(cfg) {
		return fmt.Errorf("%s: no connectionString line for the sqlite name resolver", o.ConfigFile)
	}
	cfg = re.ReplaceAll(cfg, []byte("${1}"+strconv.Quote(nr)))
	s.config = filepath.Join(o.RunDir, "config.yaml")
	return os.WriteFile(s.config, cfg, 0o644)
}

// GraphQLURL is the gateway's GraphQL endpoint (empty when the stack runs
// no gateway).
func (s *Stack) GraphQLURL() string {
	p, ok := s.ports["gateway"]
	if !ok {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d/graphql", p.Public)
}

// AppAddr is app's sidecar-facing listener (host:port): every request to
// it needs header dapr-api-token: AppToken(app).
func (s *Stack) AppAddr(app string) string {
	return fmt.Sprintf("127.0.0.1:%d", s.ports[app].App)
}

// OpsAddr is app's ops listener (host:port): /healthz, /readyz, /metrics,
// /debug/pprof.
func (s *Stack) OpsAddr(app string) string {
	return fmt.Sprintf("127.0.0.1:%d", s.ports[app].Ops)
}

// PublicAddr is app's public listener (host:port), empty for an app
// without one.
func (s *Stack) PublicAddr(app string) string {
	if s.ports[app].Public == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", s.ports[app].Public)
}

// appTokens are one app's two Dapr API tokens.
type appTokens struct{ app, dapr string }

// makeTokens draws every app's tokens and the partner key, fresh for each
// stack: nothing outside it can call its apps.
func (s *Stack) makeTokens() {
	s.tokens = make(map[string]appTokens, len(s.opts.Apps))
	for _, app := range s.opts.Apps {
		s.tokens[app] = appTokens{app: randomHex(32), dapr: randomHex(32)}
	}
	s.outsideKey = randomHex(32)
}

// AppToken is app's APP_API_TOKEN: what its sidecar sends it, and what a
// test sends to call the app's port directly (header dapr-api-token).
func (s *Stack) AppToken(app string) string { return s.tokens[app].app }

// DaprToken is app's DAPR_API_TOKEN: what its sidecar requires on its
// HTTP and gRPC APIs (daprx.WithAPIToken, the go-sdk client's
// WithAuthToken).
func (s *Stack) DaprToken(app string) string { return s.tokens[app].dapr }

// OutsideKey is the partner key of the stack's partners stand-in.
func (s *Stack) OutsideKey() string { return s.outsideKey }

// Ports returns where app and its sidecar listen.
func (s *Stack) Ports(app string) (AppPorts, bool) {
	p, ok := s.ports[app]
	return p, ok
}

// DaprHTTPURL is the base URL of app's sidecar HTTP API.
func (s *Stack) DaprHTTPURL(app string) string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.ports[app].DaprHTTP)
}

// Placement returns placement's ports.
func (s *Stack) Placement() PlacementPorts { return s.pports }

// Scheduler returns the Scheduler's ports.
func (s *Stack) Scheduler() SchedulerPorts { return s.sports }

// Apps lists the stack's app-ids.
func (s *Stack) Apps() []string { return append([]string(nil), s.opts.Apps...) }

// RunDir is the stack's run directory.
func (s *Stack) RunDir() string { return s.opts.RunDir }

// RedisDB is the Redis DB the stack uses.
func (s *Stack) RedisDB() int { return s.redisDB }

// DSN is app's MariaDB DSN.
func (s *Stack) DSN(app string) string { return s.dsn(app) }

// JWTSecret is the secret the stack's gateway verifies tokens with.
func (s *Stack) JWTSecret() string { return s.secret }

// Token mints a 24-hour token the stack's gateway accepts.
func (s *Stack) Token(role, subject string) (string, error) {
	return devauth.Mint(s.secret, role, subject, 24*time.Hour)
}

// OperatorToken mints a 24-hour WAREHOUSE_OPERATOR token for warehouse.
func (s *Stack) OperatorToken(subject, warehouse string) (string, error) {
	return devauth.MintIn(s.secret, devauth.RoleWarehouseOperator, subject, warehouse, 24*time.Hour)
}

// LogTail returns the last n lines of app's log, or of its sidecar's when
// app is "<app>.daprd", or of "placement" or "scheduler".
func (s *Stack) LogTail(name string, n int) string {
	return tail(filepath.Join(s.opts.RunDir, "logs", name+".log"), n)
}

func (s *Stack) dsn(app string) string {
	return strings.TrimSuffix(s.opts.MySQLServer, "/") + "/" + s.opts.DBPrefix + "_" + app + "?parseTime=true&loc=UTC"
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// waitReady polls every app's /readyz on its ops port (200) and every sidecar's
// /v1.0/healthz (204), and with control the Scheduler's /healthz (200),
// until all answer or ctx ends; a process that exits meanwhile fails the
// wait at once.
func (s *Stack) waitReady(ctx context.Context, apps []string, control bool) error {
	client := &http.Client{Timeout: 2 * time.Second}
	type check struct {
		name, url string
		want      int
		p         *proc
	}
	var pending []check
	s.mu.Lock()
	if control {
		pending = append(pending, check{"scheduler", fmt.Sprintf("http://127.0.0.1:%d/healthz", s.sports.Health), http.StatusOK, s.sched})
	}
	for _, app := range apps {
		pp := s.ports[app]
		pending = append(pending,
			check{app, fmt.Sprintf("http://127.0.0.1:%d/readyz", pp.Ops), http.StatusOK, s.apps[app]},
			check{app + ".daprd", fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", pp.DaprHTTP), http.StatusNoContent, s.sidecars[app]})
	}
	s.mu.Unlock()
	last := map[string]string{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var still []check
		for _, c := range pending {
			if c.p.exited() {
				return fmt.Errorf("%s exited before it was ready (%s); last log lines:\n%s", c.name, c.p.exitErr(), s.LogTail(c.name, 30))
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
			resp, err := client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
				resp.Body.Close()
				if resp.StatusCode == c.want {
					continue
				}
				last[c.name] = fmt.Sprintf("GET %s: %d", c.url, resp.StatusCode)
			} else {
				last[c.name] = fmt.Sprintf("GET %s: %v", c.url, err)
			}
			still = append(still, c)
		}
		pending = still
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var b strings.Builder
			fmt.Fprintf(&b, "stack %s not ready: %v", s.opts.Name, ctx.Err())
			for _, c := range pending {
				fmt.Fprintf(&b, "\n--- %s not ready (%s); last log lines:\n%s", c.name, last[c.name], s.LogTail(c.name, 20))
			}
			return errors.New(b.String())
		case <-tick.C:
		}
	}
}
