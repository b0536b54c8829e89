package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// proc is one child process: an app, a sidecar, placement or the Scheduler. Each runs in
// its own process group (so a terminal's Ctrl-C reaches only the launcher,
// which then stops the children in order) and is killed by the kernel when
// the launcher dies (Pdeathsig), so no daprd outlives a killed test.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  *os.File
	// expected is set before the launcher stops or kills the child, so
	// any other exit is reported as unexpected.
	expected atomic.Bool
}

func (p *proc) exited() bool {
	if p == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) exitErr() string {
	if p == nil || !p.exited() {
		return "running"
	}
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// signal sends sig to the child's whole process group.
func (p *proc) signal(sig syscall.Signal) {
	if p == nil || p.cmd.Process == nil || p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop sends SIGTERM and waits up to grace, then SIGKILLs and waits.
func (p *proc) stop(grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	p.expected.Store(true)
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	p.kill()
}

// kill SIGKILLs the child's group and waits for it to be reaped.
func (p *proc) kill() {
	if p == nil || p.exited() {
		return
	}
	p.expected.Store(true)
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// spawn starts bin with args and env (added to the launcher's own
// environment), its output appended to <RunDir>/logs/<name>.log.
func (s *Stack) spawn(name, bin string, args []string, env map[string]string) (*proc, error) {
	logPath := filepath.Join(s.opts.RunDir, "logs", name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log for %s: %w", name, err)
	}
	fmt.Fprintf(f, "=== %s: %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.opts.RunDir
	cmd.Env = mergeEnv(goGC, env)
	var out io.Writer = f
	if s.opts.Logs != nil {
		out = io.MultiWriter(f, &prefixWriter{w: s.opts.Logs, prefix: name + " | "})
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: f}
	go func() {
		p.err = cmd.Wait()
		fmt.Fprintf(f, "=== %s: exited: %v\n", time.Now().Format(time.RFC3339), p.err)
		f.Close()
		close(p.done)
		if !p.expected.Load() {
			s.progress("%s exited unexpectedly (%v); see %s", name, p.err, logPath)
		}
	}()
	return p, nil
}

// goGC is the launcher's environment with the Go collector's settings for
// every process it starts (apps, sidecars, placement), unless the
// environment sets them already. Go's default (GOGC=100) collects each
// time the live heap doubles, and the stack's processes keep small live
// heaps while allocating fast (JSON, HTTP, SQL rows), so at load they
// collected many times a second: 1000 lets each heap grow tenfold between
// collections (a few hundred MB at most at peak, on a machine with GBs
// to spare), and GOMEMLIMIT makes the collector run sooner whenever a
// process nears it. Fulfillment on the whole stack went from 116-122 to
// 139 orders/s with it (GOGC=400: 132).
var goGC = func() []string {
	env := os.Environ()
	for k, v := range map[string]string{"GOGC": "1000", "GOMEMLIMIT": "768MiB"} {
		if _, set := os.LookupEnv(k); !set {
			env = append(env, k+"="+v)
		}
	}
	return env
}()

// mergeEnv returns base with the keys in extra replaced or added.
func mergeEnv(base []string, extra map[string]string) []string {
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := extra[k]; !ok {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

// prefixWriter writes whole lines to w, each after prefix; writers of all
// children share one lock so their lines never interleave.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

var logsMu sync.Mutex

func (pw *prefixWriter) Write(b []byte) (int, error) {
	logsMu.Lock()
	defer logsMu.Unlock()
	pw.buf = append(pw.buf, b...)
	for {
		i := bytes.IndexByte(pw.buf, '\n')
		if i < 0 {
			break
		}
		_, _ = fmt.Fprintf(pw.w, "%s%s\n", pw.prefix, pw.buf[:i])
		pw.buf = pw.buf[i+1:]
	}
	return len(b), nil
}

func (s *Stack) startPlacement() error {
	pp := s.pports
	args := []string{
		"--id", "dapr-placement-0",
		"--initial-cluster", "dapr-placement-0=127.0.0.1:" + strconv.Itoa(pp.Raft),
		"--port", strconv.Itoa(pp.GRPC),
		"--listen-address", "127.0.0.1",
		"--healthz-port", strconv.Itoa(pp.Health),
		"--healthz-listen-address", "127.0.0.1",
		"--metrics-port", strconv.Itoa(pp.Metrics),
		"--metrics-listen-address", "127.0.0.1",
		"--log-level", s.opts.DaprLogLevel,
	}
	p, err := s.spawn("placement", s.placement, args, nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.place = p
	s.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("placement exited at start (%s); last log lines:\n%s", p.exitErr(), s.LogTail("placement", 20))
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", pp.GRPC), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("placement not listening on 127.0.0.1:%d after 20s; last log lines:\n%s", pp.GRPC, s.LogTail("placement", 20))
}

// startScheduler starts Dapr's Scheduler (actor reminders and jobs) with
// its embedded etcd's data in <RunDir>/scheduler, every listener on
// 127.0.0.1. It does not wait: the sidecars connect when it is up, and
// Start's readiness waits for its healthz.
func (s *Stack) startScheduler() error {
	sp := s.sports
	const id = "dapr-scheduler-server-0"
	data := filepath.Join(s.opts.RunDir, "scheduler")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	args := []string{
		"--id", id,
		"--port", strconv.Itoa(sp.GRPC),
		"--listen-address", "127.0.0.1",
		"--override-broadcast-host-port", fmt.Sprintf("127.0.0.1:%d", sp.GRPC),
		"--healthz-port", strconv.Itoa(sp.Health),
		"--healthz-listen-address", "127.0.0.1",
		"--metrics-port", strconv.Itoa(sp.Metrics),
		"--metrics-listen-address", "127.0.0.1",
		"--etcd-data-dir", data,
		"--etcd-client-port", strconv.Itoa(sp.EtcdClient),
		"--etcd-client-listen-address", "127.0.0.1",
		"--etcd-initial-cluster", fmt.Sprintf("%s=http://127.0.0.1:%d", id, sp.EtcdPeer),
		"--log-level", s.opts.DaprLogLevel,
	}
	p, err := s.spawn("scheduler", s.scheduler, args, nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sched = p
	s.mu.Unlock()
	return nil
}

// appEnv is the env contract every app reads (apps/platform/config.Base).
func (s *Stack) appEnv(app string) map[string]string {
	pp := s.ports[app]
	env := map[string]string{
		"HARVEST_APP_ID":     app,
		"HARVEST_HTTP_ADDR":  fmt.Sprintf("127.0.0.1:%d", pp.App),
		"HARVEST_OPS_ADDR":   fmt.Sprintf("127.0.0.1:%d", pp.Ops),
		"APP_API_TOKEN":      s.tokens[app].app,
		"DAPR_API_TOKEN":     s.tokens[app].dapr,
		"DAPR_HTTP_PORT":     strconv.Itoa(pp.DaprHTTP),
		"DAPR_GRPC_PORT":     strconv.Itoa(pp.DaprGRPC),
		"HARVEST_MYSQL_DSN":  s.dsn(app),
		"HARVEST_REDIS_ADDR": s.opts.RedisAddr,
		"HARVEST_REDIS_DB":   strconv.Itoa(s.redisDB),
		"HARVEST_PUBSUB":     "pubsub",
		"HARVEST_ENV":        "development",
		"HARVEST_SEED":       "true", // seeded customers and catalog (development only)
		"HARVEST_JWT_SECRET": s.secret,
	}
	if v, ok := PublicEnv[app]; ok {
		env[v] = fmt.Sprintf("127.0.0.1:%d", pp.Public)
	}
	if _, ok := s.ports["partners"]; ok && (app == "oms" || app == "wms" || app == "aftersales" || app == "channels") {
		env["HARVEST_PARTNERS_APP_ID"] = OutsideEndpoint // see OutsideEndpointFile
	}
	if app == "partners" {
		env["PARTNERS_OUTSIDE_KEY"] = s.outsideKey // what OutsideEndpointFile's header carries
		if cp, ok := s.ports["channels"]; ok {
			// The marketplace stand-ins push to channels' public listener,
			// as the real platforms do (no sidecar).
			env["PARTNERS_CHANNELS_URL"] = fmt.Sprintf("http://127.0.0.1:%d", cp.Public)
		}
	}
	for k, v := range s.opts.Env {
		env[k] = v
	}
	for k, v := range s.opts.AppEnv[app] {
		env[k] = v
	}
	return env
}

// daprdArgs are app's sidecar flags: every listener on 127.0.0.1, on the
// stack's ports.
func (s *Stack) daprdArgs(app string) []string {
	pp := s.ports[app]
	args := []string{
		"--app-id", app,
		"--app-port", strconv.Itoa(pp.App),
		"--app-protocol", "http",
		"--app-channel-address", "127.0.0.1",
		"--dapr-http-port", strconv.Itoa(pp.DaprHTTP),
		"--dapr-grpc-port", strconv.Itoa(pp.DaprGRPC),
		"--dapr-internal-grpc-port", strconv.Itoa(pp.DaprInternal),
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--dapr-listen-addresses", "127.0.0.1",
		"--metrics-port", strconv.Itoa(pp.DaprMetrics),
		"--metrics-listen-address", "127.0.0.1",
		"--placement-host-address", fmt.Sprintf("127.0.0.1:%d", s.pports.GRPC),
		"--scheduler-host-address", fmt.Sprintf("127.0.0.1:%d", s.sports.GRPC),
		"--resources-path", s.resources,
		"--config", s.config,
		"--log-level", s.opts.DaprLogLevel,
	}
	for _, r := range s.opts.ExtraResources {
		args = append(args, "--resources-path", r)
	}
	return args
}

func (s *Stack) startApp(app string) error {
	a, err := s.spawn(app, s.binOf[app], nil, s.appEnv(app))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.apps[app] = a
	s.mu.Unlock()
	d, err := s.spawn(app+".daprd", s.daprd, s.daprdArgs(app), map[string]string{
		// The address the sidecar registers in the name resolver: stacks
		// stay on loopback.
		"DAPR_HOST_IP": "127.0.0.1",
		// Read by the components' envRef (components/local/*.yaml).
		"HARVEST_REDIS_DB":   strconv.Itoa(s.redisDB),
		"HARVEST_REDIS_ADDR": s.opts.RedisAddr,
		// daprd sends APP_API_TOKEN to its app on every call, and requires
		// DAPR_API_TOKEN on every call of its own APIs but health.
		"APP_API_TOKEN":  s.tokens[app].app,
		"DAPR_API_TOKEN": s.tokens[app].dapr,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sidecars[app] = d
	s.mu.Unlock()
	return nil
}

// Kill SIGKILLs app and its sidecar, as a crash would, and waits until
// both are gone.
func (s *Stack) Kill(app string) error {
	s.mu.Lock()
	a, d, ok := s.apps[app], s.sidecars[app], s.ports[app] != (AppPorts{})
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("kill: no app %q in stack %s", app, s.opts.Name)
	}
	var wg sync.WaitGroup
	for _, p := range []*proc{a, d} {
		wg.Add(1)
		go func() { defer wg.Done(); p.kill() }()
	}
	wg.Wait()
	return nil
}

// Restart starts app and its sidecar again on the same ports (stopping
// them first if they still run) and waits until both are ready.
func (s *Stack) Restart(ctx context.Context, app string) error {
	s.mu.Lock()
	a, d, ok := s.apps[app], s.sidecars[app], s.ports[app] != (AppPorts{})
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("restart: no app %q in stack %s", app, s.opts.Name)
	}
	a.stop(s.opts.StopTimeout)
	d.stop(s.opts.StopTimeout)
	if err := s.startApp(app); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	return s.waitReady(rctx, []string{app}, false)
}

// Stop stops the stack: SIGTERM to every app (they drain through their
// sidecars), then to every sidecar, then to placement and the Scheduler,
// each stage SIGKILLed
// after Options.StopTimeout or when ctx ends. It then releases the Redis
// DB lease and drops a test stack's databases. Stop is idempotent.
func (s *Stack) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	apps := make([]*proc, 0, len(s.apps))
	sidecars := make([]*proc, 0, len(s.sidecars))
	for _, p := range s.apps {
		apps = append(apps, p)
	}
	for _, p := range s.sidecars {
		sidecars = append(sidecars, p)
	}
	control := []*proc{s.place, s.sched}
	s.mu.Unlock()

	grace := s.opts.StopTimeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) / 3; left < grace {
			grace = max(left, 100*time.Millisecond)
		}
	}
	stopAll := func(ps []*proc) {
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(grace) }()
		}
		wg.Wait()
	}
	stopAll(apps)
	stopAll(sidecars)
	stopAll(control)

	if s.releaseDB != nil {
		s.releaseDB()
	}
	if s.unlockRunDir != nil {
		s.unlockRunDir()
	}
	if s.opts.Name != DevName && !s.opts.KeepData {
		if err := dropDatabases(ctx, s.opts.MySQLServer, s.opts.DBPrefix); err != nil {
			return fmt.Errorf("stop %s: %w", s.opts.Name, err)
		}
	}
	return nil
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > 64<<10 {
		b = b[len(b)-64<<10:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// PIDs returns the process id of every running child, keyed by name
// ("<app>", "<app>.daprd", "placement", "scheduler").
func (s *Stack) PIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	add := func(p *proc) {
		if p != nil && !p.exited() && p.cmd.Process != nil {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	for _, p := range s.apps {
		add(p)
	}
	for _, p := range s.sidecars {
		add(p)
	}
	add(s.place)
	add(s.sched)
	return out
}
