// Command harvest-stack runs the local Harvest stack.
//
//	harvest-stack up [-apps gateway,oms] [-v]   start MariaDB/Redis if needed, then every app with its daprd; Ctrl-C stops all
//	harvest-stack down                          stop the stack `up` started (from another terminal)
//	harvest-stack token -role CUSTOMER -sub C0001   print a development JWT
//	harvest-stack services                      install/start MariaDB and Redis only
//	harvest-stack sidecar                       build daprd, placement and scheduler into .bin if missing
//	harvest-stack runfile                       print the Dapr CLI run file (deploy/dapr.yaml) of every app
//
// `make up`, `make down`, `make token` and `make test` call it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/harvest/harvest/apps/platform/devauth"
	"github.com/harvest/harvest/deploy/local"
	"github.com/harvest/harvest/deploy/local/stack"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = up(args)
	case "down":
		err = down(args)
	case "token":
		err = token(args)
	case "services":
		err = local.EnsureServices(context.Background(), os.Stderr)
	case "sidecar":
		err = sidecar()
	case "runfile":
		err = runfile()
	case "-h", "-help", "--help", "help":
		usage()
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "harvest-stack:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: harvest-stack <command> [flags]
  up        start the developer stack (GraphQL on http://127.0.0.1:8080/graphql); Ctrl-C stops it
  down      stop the stack 'up' started
  token     print a development JWT: token -role CUSTOMER -sub C0001
  services  install/start MariaDB and Redis
  sidecar   build daprd, placement and scheduler into .bin if missing
  runfile   print the Dapr CLI run file (deploy/dapr.yaml) of every app
`)
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	apps := fs.String("apps", "", "comma-separated app-ids to run (default: every app in apps/)")
	verbose := fs.Bool("v", false, "also copy every child's output to this terminal")
	noServices := fs.Bool("no-services", false, "do not install or start MariaDB and Redis")
	_ = fs.Parse(args)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*noServices {
		if err := local.EnsureServices(ctx, os.Stderr); err != nil {
			return err
		}
	}
	o := stack.Options{Name: stack.DevName, FixedPorts: true, Progress: os.Stderr}
	if *apps != "" {
		o.Apps = strings.Split(*apps, ",")
	}
	if *verbose {
		o.Logs = os.Stderr
	}
	root, err := stack.FindRepoRoot()
	if err != nil {
		return err
	}
	runDir := filepath.Join(root, ".run", stack.DevName)
	pidFile := filepath.Join(runDir, "stack.pid")
	if pid, ok := runningPID(pidFile); ok {
		return fmt.Errorf("a dev stack is already running (pid %d); stop it with `make down`", pid)
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)

	start := time.Now()
	s, err := stack.Start(ctx, o)
	if err != nil {
		return err
	}
	tok, err := s.Token(devauth.RoleCustomer, "C0001")
	if err != nil {
		return err
	}
	gql := s.GraphQLURL()
	fmt.Printf("\nHarvest is up (%s) — apps: %s\n", time.Since(start).Round(100*time.Millisecond), strings.Join(s.Apps(), ", "))
	if gql != "" {
		fmt.Printf("  GraphQL:     %s\n", gql)
		fmt.Printf("  Playground:  %s\n", strings.TrimSuffix(gql, "/graphql")+"/playground")
	}
	fmt.Printf("  Token:       make -s token ROLE=CUSTOMER SUB=C0001   (roles: %s)\n", strings.Join(devauth.Roles, " "))
	fmt.Printf("  e.g.         curl -s %s -H 'Content-Type: application/json' \\\n", gql)
	fmt.Printf("                 -H 'Authorization: Bearer %s…' -d '{\"query\":\"{ __typename }\"}'\n", tok[:24])
	fmt.Printf("  Logs:        %s/logs/<app>.log and <app>.daprd.log\n", s.RunDir())
	fmt.Println("  Ports:       app ports take only calls with header dapr-api-token (each app's APP_API_TOKEN,")
	fmt.Println("               random per start; see its env in /proc/<pid>/environ); ops ports serve health, metrics, pprof")
	for _, app := range s.Apps() {
		p, _ := s.Ports(app)
		line := fmt.Sprintf("  %-10s  app 127.0.0.1:%d  ops %d  dapr http %d grpc %d", app, p.App, p.Ops, p.DaprHTTP, p.DaprGRPC)
		if p.Public != 0 {
			line += fmt.Sprintf("  public %d", p.Public)
		}
		fmt.Println(line)
	}
	fmt.Println("Ctrl-C (or `make down`) stops everything.")

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nharvest-stack: stopping…")
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Stop(sctx); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "harvest-stack: stopped")
	return nil
}

func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	wait := fs.Duration("wait", 90*time.Second, "how long to wait for a clean stop before SIGKILL")
	_ = fs.Parse(args)
	root, err := stack.FindRepoRoot()
	if err != nil {
		return err
	}
	pidFile := filepath.Join(root, ".run", stack.DevName, "stack.pid")
	pid, ok := runningPID(pidFile)
	if !ok {
		fmt.Fprintln(os.Stderr, "harvest-stack: no dev stack running")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(*wait)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			fmt.Fprintln(os.Stderr, "harvest-stack: dev stack stopped")
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The children die with the launcher (Pdeathsig).
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("pid %d did not stop within %s; killed", pid, *wait)
}

// runningPID reads a pid file and reports whether that pid is a live
// harvest-stack process (not a reused pid).
func runningPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err == nil && !strings.Contains(string(cmdline), "harvest-stack") {
		return 0, false
	}
	return pid, true
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	role := fs.String("role", devauth.RoleCustomer, "one of "+strings.Join(devauth.Roles, ", "))
	sub := fs.String("sub", "", "subject: the customer or staff id (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "validity")
	secret := fs.String("secret", devauth.DevSecret, "signing secret (default: the dev stack's)")
	wh := fs.String("warehouse", "", "the warehouse a WAREHOUSE_OPERATOR works in")
	_ = fs.Parse(args)
	if *sub == "" {
		return errors.New("token: -sub is required, e.g. token -role CUSTOMER -sub C0001")
	}
	tok, err := devauth.MintIn(*secret, strings.ToUpper(*role), *sub, *wh, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func sidecar() error {
	root, err := stack.FindRepoRoot()
	if err != nil {
		return err
	}
	bin := filepath.Join(root, ".bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	var w io.Writer = os.Stderr
	for _, name := range []string{"daprd", "placement", "scheduler"} {
		p, err := stack.EnsureSidecar(context.Background(), root, bin, name, w)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "harvest-stack: %s: %s\n", name, p)
	}
	return nil
}

// runfile prints deploy/dapr.yaml as the launcher's dev layout makes it.
func runfile() error {
	root, err := stack.FindRepoRoot()
	if err != nil {
		return err
	}
	apps, err := stack.DiscoverApps(filepath.Join(root, "apps"))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(stack.RunFile(apps))
	return err
}
