package stack

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/harvest/harvest/apps/platform/devauth"
)

// The CLI run file (deploy/dapr.yaml) is rendered from the launcher's own
// dev layout and env contract (fixedLayout, appEnv), so it cannot drift
// from what `make up` runs: TestRunFileIsCurrent fails when the committed
// file differs, and `go run ./deploy/local/cmd/harvest-stack runfile >
// deploy/dapr.yaml` writes it anew. It was hand-kept before and had lost
// two apps and every port after the fourth.
const (
	// RunFileAppToken is the one development APP_API_TOKEN every app
	// shares under the CLI (the launcher draws one per app).
	RunFileAppToken = "dev-app-api-token-change-me-0123456789"
	// RunFileOutsideKey is the partner key of components/local's
	// HTTPEndpoint as committed (the launcher draws one per stack).
	RunFileOutsideKey = "dev-partners-outside-key-change-me"
	// The CLI's placement and Scheduler ports: `dapr init --slim` leaves
	// their healthz on 8080, the gateway's, so they are moved here.
	runFilePlacement = 50005
	runFileScheduler = 50008
)

// runFileCommon are the env entries every app shares, written once under
// common: with why each is there.
var runFileCommon = []struct{ key, why string }{
	{"HARVEST_REDIS_ADDR", ""},
	{"HARVEST_REDIS_DB", "read by the components' envRef too: export it in the shell (see above)"},
	{"HARVEST_PUBSUB", ""},
	{"HARVEST_ENV", ""},
	{"HARVEST_SEED", "funded customers and a catalog; refused outside development"},
	{"HARVEST_JWT_SECRET", "devauth.DevSecret: tokens from `make token` work against this stack"},
	{"APP_API_TOKEN", "every app's port takes only calls carrying it (dapr-api-token)"},
}

// runFileDropped are env entries the CLI sets itself (the sidecar's ports)
// or that development does not use (no DAPR_API_TOKEN under the CLI).
var runFileDropped = []string{"DAPR_API_TOKEN", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT"}

const runFileHeader = `# Dapr CLI multi-app run file: the same stack as ` + "`make up`" + `, for machines
# that have the Dapr CLI 1.18 (` + "`dapr init --slim`" + ` is enough: the CLI, daprd,
# placement and the Scheduler; or point runtimePath at this repo's .bin after
# ` + "`make sidecar`" + `). Dapr 1.18 keeps actor reminders (OMS's ExpiryWindow) only
# in the Scheduler, so it must run too.
#
# GENERATED from the launcher's dev layout and env contract; do not edit:
#   go run ./deploy/local/cmd/harvest-stack runfile > deploy/dapr.yaml
# (deploy/local/stack's TestRunFileIsCurrent fails when this file is stale).
#
#   make services                                  # MariaDB + Redis
#   .bin/placement --port 50005 --healthz-port 50006 --metrics-port 50007 &
#   .bin/scheduler --port 50008 --healthz-port 50009 --metrics-port 50010 \
#       --listen-address 127.0.0.1 --etcd-data-dir .run/cli-scheduler \
#       --etcd-client-port 50011 --etcd-initial-cluster \
#       dapr-scheduler-server-0=http://127.0.0.1:50012 &
#                                                  # with ` + "`dapr init --slim`" + ` (their default
#                                                  # healthz port 8080 is the gateway's)
#   export HARVEST_REDIS_DB=0                      # read by the components' envRef:
#   export APP_API_TOKEN=` + RunFileAppToken + `
#                                                  #   the CLI gives ` + "`env`" + ` to the apps only,
#   dapr run -f deploy/dapr.yaml                   #   daprd inherits the shell's environment
#                                                  #   (APP_API_TOKEN: what daprd sends the apps,
#                                                  #   the same value as in common env below)
#
# Same env contract, components (components/local), resiliency
# (dapr/resiliency.yaml, loaded from ../dapr as a resources path) and
# Configuration (dapr/config.yaml) as deploy/local/stack uses. Ports follow
# the launcher's fixed dev layout, so do not run both at once. Unlike the
# launcher, every app shares one development APP_API_TOKEN here and no
# DAPR_API_TOKEN is set (development does not require one). The CLI sets
# DAPR_HTTP_PORT and DAPR_GRPC_PORT for each app itself.
`

// RunFile renders the CLI run file for apps (every app of the repo).
func RunFile(apps []string) []byte {
	apps = slices.Sorted(slices.Values(apps))
	s := &Stack{
		opts:  Options{Apps: apps, RedisAddr: "127.0.0.1:6379", MySQLServer: "root@tcp(127.0.0.1:3306)/", DBPrefix: "harvest"},
		ports: make(map[string]AppPorts, len(apps)), tokens: make(map[string]appTokens, len(apps)),
		secret: devauth.DevSecret, outsideKey: RunFileOutsideKey,
	}
	s.fixedLayout(apps)
	for _, app := range apps {
		s.tokens[app] = appTokens{app: RunFileAppToken}
	}
	var b bytes.Buffer
	b.WriteString(runFileHeader)
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("version: 1")
	w("common:")
	w("  resourcesPaths:")
	w("    - ../components/local")
	w("    - ../dapr")
	w("  configFilePath: ../dapr/config.yaml")
	w("  appProtocol: http")
	w("  apiListenAddresses: 127.0.0.1")
	w("  logLevel: warn")
	w("  placementHostAddress: 127.0.0.1:%d", runFilePlacement)
	w("  schedulerHostAddress: 127.0.0.1:%d", runFileScheduler)
	w("  env:")
	first := s.appEnv(apps[0])
	for _, c := range runFileCommon {
		line := fmt.Sprintf("    %s: %s", c.key, strconv.Quote(first[c.key]))
		if c.why != "" {
			line += " # " + c.why
		}
		w("%s", line)
	}
	w("apps:")
	for _, app := range apps {
		p := s.ports[app]
		w("  - appID: %s", app)
		w("    appDirPath: ../apps/%s", app)
		w("    appPort: %d", p.App)
		w("    daprHTTPPort: %d", p.DaprHTTP)
		w("    daprGRPCPort: %d", p.DaprGRPC)
		w("    daprInternalGRPCPort: %d", p.DaprInternal)
		w("    metricsPort: %d", p.DaprMetrics)
		w(`    command: ["go", "run", "."]`)
		w("    env:")
		env := s.appEnv(app)
		for _, c := range runFileCommon {
			delete(env, c.key)
		}
		for _, k := range runFileDropped {
			delete(env, k)
		}
		for _, k := range slices.Sorted(maps.Keys(env)) {
			w("      %s: %s", k, strconv.Quote(env[k]))
		}
	}
	return b.Bytes()
}

// PublicAddrIn is app's public listener in the run file's layout ("" when
// it has none): components/local's HTTPEndpoint must point at partners'.
func PublicAddrIn(apps []string, app string) string {
	s := &Stack{ports: make(map[string]AppPorts, len(apps))}
	s.fixedLayout(slices.Sorted(slices.Values(apps)))
	if p := s.ports[app].Public; p != 0 {
		return fmt.Sprintf("127.0.0.1:%d", p)
	}
	return ""
}
