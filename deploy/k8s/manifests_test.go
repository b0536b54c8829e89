// Package k8s_test proves the production manifests (kustomization.yaml):
// every resource decodes into the real Kubernetes API types (Dapr's CRDs as
// generic maps); every app starts, checked by running that app's own
// configuration reader in production mode against the environment its
// Deployment gives it; nothing seeds and no stand-in is deployed; the
// listeners, tokens and probes follow the contract; and the Dapr access
// control lists allow exactly what the apps' client packages call and
// refuse the forgeries of issue 10.
package k8s_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/harvest/harvest/apps/gateway/gatewayconfig"
	invapp "github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/inventory/inventoryconfig"
	mktapp "github.com/harvest/harvest/apps/marketing/app"
	mktevents "github.com/harvest/harvest/apps/marketing/events"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/marketing/marketingconfig"
	omsapp "github.com/harvest/harvest/apps/oms/app"
	omsevents "github.com/harvest/harvest/apps/oms/events"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/oms/omsconfig"
	payapp "github.com/harvest/harvest/apps/pay/app"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/pay/payconfig"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/daprx"
	wmsevents "github.com/harvest/harvest/apps/wms/events"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
	"github.com/harvest/harvest/apps/aftersales/aftersalesconfig"
	asapp "github.com/harvest/harvest/apps/aftersales/app"
	asevents "github.com/harvest/harvest/apps/aftersales/events"
	chapp "github.com/harvest/harvest/apps/channels/app"
	"github.com/harvest/harvest/apps/channels/channelsclient"
	"github.com/harvest/harvest/apps/channels/channelsconfig"
	chevents "github.com/harvest/harvest/apps/channels/events"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/apps/wms/wmsconfig"
	"github.com/harvest/harvest/graph"
	"github.com/harvest/harvest/graph/hub"
)

// The contract's listeners (CONTRACT.md, apps/platform/config.Base).
const (
	appAddr    = "127.0.0.1:3000" // HARVEST_HTTP_ADDR: only the pod's sidecar
	opsAddr    = "0.0.0.0:9090"   // HARVEST_OPS_ADDR: probes and the scraper
	publicAddr = "0.0.0.0:8080"   // HARVEST_PUBLIC_ADDR: the gateway's /graphql
	opsPort    = 9090
	publicPort = 8080
	namespace  = "harvest"
)

// publicListeners are the apps with a public listener (HARVEST_PUBLIC_ADDR)
// and its port: the gateway's /graphql and channels' marketplace push
// endpoints. Every other app has none.
var publicListeners = map[string]int{"gateway": publicPort, "channels": 8090}

// started is what a reader says about an app's configuration.
type started struct {
	base config.Base
	seed bool
}

// readers run each app's own configuration reader (the one its main calls)
// on an environment. A Deployment without one here fails the test.
var readers = map[string]func(env map[string]string) (started, error){
	// The gateway's readConfig (package main) is config.ReadBase, the
	// required HARVEST_JWT_SECRET and gatewayconfig.ReadJWT; its other
	// settings have defaults.
	"gateway": func(env map[string]string) (started, error) {
		r := config.FromMap(env)
		b := config.ReadBase(r, "gateway", false)
		gatewayconfig.ReadJWT(r, b, r.Required("HARVEST_JWT_SECRET"))
		return started{base: b}, r.Err()
	},
	"oms": func(env map[string]string) (started, error) {
		var environ []string
		for k, v := range env {
			environ = append(environ, k+"="+v)
		}
		c, err := omsconfig.Read(environ)
		return started{base: c.Base}, err
	},
	"inventory": func(env map[string]string) (started, error) {
		c, err := inventoryconfig.Read(config.FromMap(env))
		return started{base: c.Base, seed: c.Seed}, err
	},
	"pay": func(env map[string]string) (started, error) {
		c, err := payconfig.Read(config.FromMap(env))
		return started{base: c.Base, seed: c.Seed}, err
	},
	"marketing": func(env map[string]string) (started, error) {
		c, err := marketingconfig.Read(config.FromMap(env))
		return started{base: c.Base}, err
	},
	"wms": func(env map[string]string) (started, error) {
		c, err := wmsconfig.Read(config.FromMap(env))
		return started{base: c.Base, seed: c.Seed}, err
	},
	"aftersales": func(env map[string]string) (started, error) {
		c, err := aftersalesconfig.Read(config.FromMap(env))
		return started{base: c.Base}, err
	},
	"channels": func(env map[string]string) (started, error) {
		c, err := channelsconfig.Read(config.FromMap(env))
		return started{base: c.Base}, err
	},
}

// set is the production kustomization, decoded.
type set struct {
	deployments []appsv1.Deployment
	services    []corev1.Service
	policies    []networkingv1.NetworkPolicy
	dapr        map[string][]map[string]any // by kind: Configuration, Component, …
	files       []string
}

func load(t *testing.T) set {
	t.Helper()
	var k struct {
		Resources []string `json:"resources"`
		Namespace string   `json:"namespace"`
	}
	b, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.Namespace != namespace {
		t.Fatalf("kustomization namespace %q, want %q (the ACLs name it)", k.Namespace, namespace)
	}
	s := set{dapr: map[string][]map[string]any{}, files: k.Resources}
	for _, f := range k.Resources {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rd := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
		for i := 0; ; i++ {
			doc, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s #%d: %v", f, i, err)
			}
			if meta.Kind == "" { // comments only
				continue
			}
			where := fmt.Sprintf("%s #%d (%s)", f, i, meta.Kind)
			// Strict: an unknown or misspelt field is an error, as
			// `kubectl apply --validate=strict` would make it.
			switch meta.APIVersion + " " + meta.Kind {
			case "apps/v1 Deployment":
				var d appsv1.Deployment
				if err := yaml.UnmarshalStrict(doc, &d); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				s.deployments = append(s.deployments, d)
			case "v1 Service":
				var v corev1.Service
				if err := yaml.UnmarshalStrict(doc, &v); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				s.services = append(s.services, v)
			case "networking.k8s.io/v1 NetworkPolicy":
				var p networkingv1.NetworkPolicy
				if err := yaml.UnmarshalStrict(doc, &p); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				s.policies = append(s.policies, p)
			case "dapr.io/v1alpha1 Configuration", "dapr.io/v1alpha1 Component",
				"dapr.io/v1alpha1 Resiliency", "dapr.io/v1alpha1 HTTPEndpoint":
				var m map[string]any
				if err := yaml.Unmarshal(doc, &m); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				s.dapr[meta.Kind] = append(s.dapr[meta.Kind], m)
			default:
				t.Fatalf("%s: %s %s is not a kind this test knows; teach it", where, meta.APIVersion, meta.Kind)
			}
		}
	}
	return s
}

// secretStandIn is what a secretKeyRef counts as: present, and long enough
// for every length rule (the real value's content is the cluster's).
func secretStandIn(ref *corev1.SecretKeySelector) string {
	v := "secret:" + ref.Name + "/" + ref.Key + ":"
	for len(v) < 48 {
		v += "x"
	}
	return v
}

// environment is the environment the container gets: literal values, and
// secretKeyRef values as present.
func environment(t *testing.T, c corev1.Container) (map[string]string, map[string]*corev1.SecretKeySelector) {
	t.Helper()
	env := map[string]string{}
	secrets := map[string]*corev1.SecretKeySelector{}
	if len(c.EnvFrom) > 0 {
		t.Errorf("%s: envFrom hides which variables the app gets; list them", c.Name)
	}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("%s: %s set twice", c.Name, e.Name)
		}
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = secretStandIn(e.ValueFrom.SecretKeyRef)
			secrets[e.Name] = e.ValueFrom.SecretKeyRef
		default:
			t.Errorf("%s: %s comes from neither a literal nor a secretKeyRef", c.Name, e.Name)
		}
	}
	return env, secrets
}

// secretVars are variables whose value must never be a literal in a manifest.
var secretVars = []string{"APP_API_TOKEN", "DAPR_API_TOKEN", "HARVEST_MYSQL_DSN", "HARVEST_JWT_SECRET",
	"HARVEST_WECHAT_KEY", "HARVEST_ALIPAY_KEY"}

// Every app's Deployment starts in production: its own reader accepts the
// environment the manifest gives it, with production mode, no seed data,
// the contract's listeners and tokens, and its probes on the ops port.
func TestProductionDeploymentsStart(t *testing.T) {
	s := load(t)
	configs := map[string]bool{}
	for _, c := range s.dapr["Configuration"] {
		configs[name(c)] = true
	}
	seen := map[string]bool{}
	for _, d := range s.deployments {
		t.Run(d.Name, func(t *testing.T) {
			ann := d.Spec.Template.Annotations
			app := ann["dapr.io/app-id"]
			seen[app] = true
			if len(d.Spec.Template.Spec.Containers) != 1 {
				t.Fatalf("%d containers, want the app's one (daprd is injected)", len(d.Spec.Template.Spec.Containers))
			}
			c := d.Spec.Template.Spec.Containers[0]
			env, secrets := environment(t, c)
			read, ok := readers[app]
			if !ok {
				t.Fatalf("no configuration reader for app %q: add it to readers", app)
			}
			got, err := read(env)
			if err != nil {
				t.Fatalf("%s does not start with its manifest's environment: %v", app, err)
			}
			if env["HARVEST_ENV"] != config.Production || got.base.Env != config.Production || got.base.Development() {
				t.Errorf("HARVEST_ENV=%q (read %q), want production stated explicitly", env["HARVEST_ENV"], got.base.Env)
			}
			if got.seed {
				t.Error("seeds demonstration data in production")
			}
			if v, ok := env["HARVEST_SEED"]; ok {
				if on, _ := strconv.ParseBool(v); on || v == "" {
					t.Errorf("HARVEST_SEED=%q in a production manifest", v)
				}
			}
			if got.base.AppID != app || env["HARVEST_APP_ID"] != app || d.Name != app {
				t.Errorf("app id %q, HARVEST_APP_ID %q, Deployment %q: one name", app, env["HARVEST_APP_ID"], d.Name)
			}
			for _, k := range secretVars {
				if _, literal := env[k]; literal && secrets[k] == nil {
					t.Errorf("%s is a literal in the manifest; use a secretKeyRef", k)
				}
			}

			// Listeners: the app port for the sidecar only, ops for probes.
			if env["HARVEST_HTTP_ADDR"] != appAddr || ann["dapr.io/app-port"] != "3000" {
				t.Errorf("HARVEST_HTTP_ADDR=%q, dapr.io/app-port=%q; want %s and 3000", env["HARVEST_HTTP_ADDR"], ann["dapr.io/app-port"], appAddr)
			}
			if env["HARVEST_OPS_ADDR"] != opsAddr {
				t.Errorf("HARVEST_OPS_ADDR=%q, want %s", env["HARVEST_OPS_ADDR"], opsAddr)
			}
			for _, p := range c.Ports {
				if p.ContainerPort == 3000 {
					t.Error("the app port 3000 is declared as a container port; only the sidecar reaches it")
				}
			}
			for probe, pr := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if pr == nil || pr.HTTPGet == nil {
					t.Errorf("no %s httpGet probe", probe)
					continue
				}
				if port := resolvePort(c, pr.HTTPGet.Port); port != opsPort {
					t.Errorf("%s probe on port %d, want the ops port %d", probe, port, opsPort)
				}
			}
			if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(opsPort) || ann["prometheus.io/path"] != "/metrics" {
				t.Errorf("scrape annotations %q %q %q, want the ops port's /metrics",
					ann["prometheus.io/scrape"], ann["prometheus.io/port"], ann["prometheus.io/path"])
			}
			if mp := ann["dapr.io/metrics-port"]; mp == strconv.Itoa(opsPort) || mp == strconv.Itoa(publicPort) || mp == "" {
				t.Errorf("dapr.io/metrics-port=%q collides with the app's listeners", mp)
			}

			// Tokens: the sidecar's secrets, and the container reads the same.
			for annot, v := range map[string]string{"dapr.io/app-token-secret": "APP_API_TOKEN", "dapr.io/api-token-secret": "DAPR_API_TOKEN"} {
				ref := secrets[v]
				if ann[annot] == "" || ref == nil || ref.Name != ann[annot] || ref.Key != "token" {
					t.Errorf("%s=%q and %s from %+v: want the same secret, key token", annot, ann[annot], v, ref)
				}
			}
			if cfg := ann["dapr.io/config"]; !configs[cfg] {
				t.Errorf("dapr.io/config=%q names no Configuration in the set", cfg)
			}

			if port, ok := publicListeners[app]; ok {
				if want := fmt.Sprintf("0.0.0.0:%d", port); env["HARVEST_PUBLIC_ADDR"] != want {
					t.Errorf("HARVEST_PUBLIC_ADDR=%q, want %s", env["HARVEST_PUBLIC_ADDR"], want)
				}
			} else if _, ok := env["HARVEST_PUBLIC_ADDR"]; ok {
				t.Error("HARVEST_PUBLIC_ADDR is only for the apps with a public listener (the gateway, channels)")
			}
		})
	}
	for app := range readers {
		if !seen[app] {
			t.Errorf("no Deployment for %s in the production set", app)
		}
	}

	// Services: only the apps with a public listener have one, on that port.
	for _, svc := range s.services {
		want, ok := publicListeners[svc.Name]
		if !ok {
			t.Errorf("Service %s: apps reach each other through their sidecars; only the gateway and channels are served", svc.Name)
			continue
		}
		var dep *appsv1.Deployment
		for i := range s.deployments {
			if s.deployments[i].Name == svc.Name {
				dep = &s.deployments[i]
			}
		}
		for _, p := range svc.Spec.Ports {
			if port := resolvePort(dep.Spec.Template.Spec.Containers[0], p.TargetPort); port != want {
				t.Errorf("%s Service port %d targets %d, want the public listener %d", svc.Name, p.Port, port, want)
			}
		}
	}
}

// A manifest that leaves out what an app needs must fail the check above:
// the readers do refuse an incomplete production environment.
func TestReadersRefuseWhatTheOldManifestsGave(t *testing.T) {
	t.Parallel()
	// PAY's Deployment before issue 10: no channel keys, endpoints or ids.
	old := map[string]string{
		"HARVEST_APP_ID": "pay", "HARVEST_HTTP_ADDR": "0.0.0.0:3000", "HARVEST_ENV": "production",
		"HARVEST_PUBSUB": "pubsub", "HARVEST_REDIS_ADDR": "redis:6379", "HARVEST_REDIS_DB": "0",
		"HARVEST_MYSQL_DSN":  secretStandIn(&corev1.SecretKeySelector{Key: "pay-dsn"}),
		"HARVEST_JWT_SECRET": secretStandIn(&corev1.SecretKeySelector{Key: "secret"}),
	}
	if _, err := readers["pay"](old); err == nil {
		t.Error("PAY starts without its channel keys and endpoints")
	}
	seeded := map[string]string{"HARVEST_SEED": "true", "HARVEST_MYSQL_DSN": "x:y@tcp(db)/inventory"}
	if _, err := readers["inventory"](seeded); err == nil {
		t.Error("inventory seeds in production")
	}
	if _, err := readers["gateway"](map[string]string{"HARVEST_JWT_SECRET": "x", "HARVEST_JWT_ISSUER": "i"}); err == nil {
		t.Error("the gateway starts with a one-byte JWT secret")
	}
}

func resolvePort(c corev1.Container, p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		return p.IntValue()
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return -1
}

// No stand-in in production: no partners app, no endpoint pointing at it,
// no development key or secret anywhere in the set.
func TestNoStandInInProduction(t *testing.T) {
	s := load(t)
	for _, d := range s.deployments {
		if d.Name == "partners" || d.Spec.Template.Annotations["dapr.io/app-id"] == "partners" {
			t.Errorf("Deployment %s runs the partners stand-in", d.Name)
		}
	}
	for _, f := range s.files {
		if strings.Contains(filepath.Base(f), "partners") {
			t.Errorf("%s is in the production set", f)
		}
		b, _ := os.ReadFile(f)
		for _, bad := range []string{"partners.harvest.svc", "dev-wechat-key", "dev-alipay-key", "harvest-dev-secret", "HARVEST_CHANNEL_APP"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s mentions %q", f, bad)
			}
		}
	}
	for _, e := range s.dapr["HTTPEndpoint"] {
		spec, _ := e["spec"].(map[string]any)
		if u, _ := spec["baseUrl"].(string); !strings.HasPrefix(u, "https://") || strings.Contains(u, "svc.cluster.local") {
			t.Errorf("HTTPEndpoint %s: baseUrl %q, want an outside https URL", name(e), u)
		}
		hs, _ := spec["headers"].([]any)
		for _, h := range hs {
			if hm, _ := h.(map[string]any); hm["value"] != nil {
				t.Errorf("HTTPEndpoint %s: header %v is a literal; use a secretKeyRef", name(e), hm["name"])
			}
		}
	}
	// Every endpoint PAY and OMS name is one of the HTTPEndpoints.
	endpoints := map[string]bool{}
	for _, e := range s.dapr["HTTPEndpoint"] {
		endpoints[name(e)] = true
	}
	for _, d := range s.deployments {
		env, _ := environment(t, d.Spec.Template.Spec.Containers[0])
		for _, k := range []string{"HARVEST_WECHAT_APP", "HARVEST_ALIPAY_APP", "HARVEST_FINANCE_APP", "HARVEST_PARTNERS_APP_ID",
			"HARVEST_CHANNELS_YUEDIAN_ENDPOINT", "HARVEST_CHANNELS_MEITUAN_ENDPOINT", "HARVEST_CHANNELS_DOUYIN_ENDPOINT",
			"HARVEST_CHANNELS_ELEME_ENDPOINT", "HARVEST_CHANNELS_YOUZAN_ENDPOINT"} {
			if v, ok := env[k]; ok && !endpoints[v] {
				t.Errorf("%s: %s=%q is no HTTPEndpoint of the set", d.Name, k, v)
			}
		}
	}
}

// deploy/k8s/dapr.yaml must not put a timeout on service invocation: daprd
// panics when one fires mid-answer, 1.14 and still 1.18 (dapr/resiliency.yaml,
// deploy/local/stack's TestInvocationTimeoutProbe).
func TestNoServiceInvocationTimeout(t *testing.T) {
	s := load(t)
	if len(s.dapr["Resiliency"]) == 0 {
		t.Fatal("no Resiliency in the set")
	}
	for _, r := range s.dapr["Resiliency"] {
		targets, _ := dig(r, "spec", "targets", "apps").(map[string]any)
		for app, v := range targets {
			if m, _ := v.(map[string]any); m["timeout"] != nil {
				t.Errorf("Resiliency %s: apps.%s has timeout %v", name(r), app, m["timeout"])
			}
		}
	}
}

// NetworkPolicies: ingress denied by default; the gateway's public port from
// the ingress controller, the ops and metrics ports from monitoring, the
// sidecars' internal gRPC from harvest's pods and the control plane; no
// policy opens the app port.
func TestNetworkPolicies(t *testing.T) {
	s := load(t)
	var denyAll bool
	open := map[int32][]string{} // port -> policies opening it
	for _, p := range s.policies {
		if len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 &&
			slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && len(p.Spec.Ingress) == 0 {
			denyAll = true
		}
		for _, in := range p.Spec.Ingress {
			if len(in.From) == 0 {
				t.Errorf("%s admits every source", p.Name)
			}
			if len(in.Ports) == 0 {
				t.Errorf("%s opens every port", p.Name)
			}
			for _, port := range in.Ports {
				open[port.Port.IntVal] = append(open[port.Port.IntVal], p.Name)
			}
		}
	}
	if !denyAll {
		t.Error("no default-deny ingress policy")
	}
	for port, want := range map[int32]string{publicPort: "gateway", 8090: "channels", opsPort: "harvest", 50002: "harvest"} {
		if len(open[port]) == 0 {
			t.Errorf("port %d (%s) is closed to everyone", port, want)
		}
	}
	for _, port := range []int32{3000, 3500, 50001} {
		if len(open[port]) > 0 {
			t.Errorf("port %d opened by %v; only the pod itself may reach it", port, open[port])
		}
	}
	for _, p := range s.policies {
		for _, in := range p.Spec.Ingress {
			for _, port := range in.Ports {
				for app, pp := range publicListeners {
					if port.Port.IntVal == int32(pp) && p.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != app {
						t.Errorf("%s opens %d beyond %s", p.Name, pp, app)
					}
				}
			}
		}
	}
}

// Pub/sub scopes: each topic published only by its owner, subscribed to
// only by its consumers, and no other topic, on every production pub/sub
// component.
func TestPubSubScopes(t *testing.T) {
	publishers := map[string][]string{
		"oms": {omsevents.TopicOrderPlaced, omsevents.TopicOrderPaid, omsevents.TopicOrderCancelled,
			omsevents.TopicPaymentRejected, omsevents.TopicDeductionsUsed,
			omsevents.TopicOrderShipped, omsevents.TopicOrderCompleted, omsevents.TopicOrderRefused},
		"pay": {payevents.TopicTradeSucceeded, payevents.TopicRefundSucceeded},
		"wms": {wmsevents.TopicOrderReceived, wmsevents.TopicWorkOrderCreated, wmsevents.TopicWorkOrderAllocated,
			wmsevents.TopicWorkOrderSuspended, wmsevents.TopicStockReceived, wmsevents.TopicPickListCreated,
			wmsevents.TopicPickListPicked, wmsevents.TopicHandoverCompleted, wmsevents.TopicParcelTracked, wmsevents.TopicShortageReported, wmsevents.TopicTaskProgressed},
		"marketing": append([]string{mktevents.TopicCampaignLaunched, mktevents.TopicCampaignPaged,
			mktevents.TopicCouponGranted, mktevents.TopicClaimQueued}, mktevents.UserMatchedTopics()...),
		"aftersales": {asevents.TopicRequestAccepted, asevents.TopicDocumentSubmitted, asevents.TopicDocumentAudited, asevents.TopicDocumentProgressed, asevents.TopicActionRecorded},
		"channels":   {chevents.TopicOrderReceived, chevents.TopicPlanCreated, chevents.TopicStatusQueued},
	}
	// The apps' subscriptions (daprx.Subscribe and SubscribeBulk calls in
	// apps/*/api, apps/*/events and apps/gateway/main.go).
	subscribers := map[string][]string{
		"gateway":   append(append(append([]string{}, hub.Topics...), hub.FloorTopics...), hub.AfterSalesTopics...),
		"inventory": {omsevents.TopicOrderPlaced, omsevents.TopicOrderCancelled, wmsevents.TopicStockReceived},
		"pay":       {omsevents.TopicDeductionsUsed, omsevents.TopicOrderCancelled, omsevents.TopicPaymentRejected},
		"oms":       {payevents.TopicTradeSucceeded, omsevents.TopicOrderPaid, wmsevents.TopicParcelTracked, wmsevents.TopicShortageReported},
		// WMS drives outbound by its own messages (apps/wms/events).
		"wms": {wmsevents.TopicOrderReceived, wmsevents.TopicWorkOrderCreated, wmsevents.TopicStockReceived,
			wmsevents.TopicHandoverCompleted, omsevents.TopicOrderCancelled},
		"marketing": append([]string{mktevents.TopicCampaignLaunched, mktevents.TopicCampaignPaged,
			mktevents.TopicCouponGranted, mktevents.TopicClaimQueued}, mktevents.UserMatchedTopics()...),
		// its own transactional message, and the refusals at the door it turns into rejections
		"aftersales": {asevents.TopicRequestAccepted, omsevents.TopicOrderRefused},
		// Its own three transactional messages, and OMS's order events
		// whose statuses the platforms are told.
		"channels": append([]string{chevents.TopicOrderReceived, chevents.TopicPlanCreated, chevents.TopicStatusQueued}, chevents.OMSTopics...),
	}
	apps := []string{"gateway", "oms", "inventory", "pay", "marketing", "wms", "aftersales", "channels"}

	files := []string{"components.yaml", "../../components/prod/pubsub-rocketmq.yaml", "../../components/prod/pubsub-kafka.yaml"}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			md := pubsubMetadata(t, f)
			pub, sub := scopes(t, md["publishingScopes"]), scopes(t, md["subscriptionScopes"])
			allowed := strings.Split(md["allowedTopics"], ",")
			var all []string
			for _, ts := range publishers {
				all = append(all, ts...)
			}
			if !sameSet(allowed, all) {
				t.Errorf("allowedTopics %v, want the published topics %v", allowed, all)
			}
			for _, app := range apps {
				p, ok := pub[app]
				if !ok {
					t.Errorf("publishingScopes leaves %s unlisted (unlisted apps may publish anything)", app)
				}
				if !sameSet(p, publishers[app]) {
					t.Errorf("%s may publish %v, want %v", app, p, publishers[app])
				}
				s, ok := sub[app]
				if !ok {
					t.Errorf("subscriptionScopes leaves %s unlisted", app)
				}
				if !sameSet(s, subscribers[app]) {
					t.Errorf("%s may subscribe to %v, want %v", app, s, subscribers[app])
				}
			}
		})
	}
}

func pubsubMetadata(t *testing.T, f string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	rd := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := rd.Read()
		if err != nil {
			t.Fatalf("%s: no pubsub component (%v)", f, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] != "Component" || !strings.HasPrefix(fmt.Sprint(dig(m, "spec", "type")), "pubsub.") {
			continue
		}
		out := map[string]string{}
		items, _ := dig(m, "spec", "metadata").([]any)
		for _, it := range items {
			im, _ := it.(map[string]any)
			out[fmt.Sprint(im["name"])] = fmt.Sprint(im["value"])
		}
		return out
	}
}

// scopes parses "app1=t1,t2;app2=".
func scopes(t *testing.T, v string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, part := range strings.Split(v, ";") {
		app, topics, ok := strings.Cut(part, "=")
		if !ok {
			t.Fatalf("scope %q is not app=topics", part)
		}
		out[app] = nil
		for _, tp := range strings.Split(topics, ",") {
			if tp != "" {
				out[app] = append(out[app], tp)
			}
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// route is one service invocation as the callee's sidecar sees it.
type route struct{ callee, verb, path string }

func (r route) String() string { return r.verb + " " + r.callee + "/" + r.path }

// recorder is a stand-in for a sidecar's HTTP API that notes what an
// Invoker asks it to invoke.
type recorder struct {
	mu     sync.Mutex
	routes []route
	delay  time.Duration // a slow sidecar, so a batching invoker queues calls
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/")
	if app, method, found := strings.Cut(rest, "/method/"); ok && found {
		rec.mu.Lock()
		rec.routes = append(rec.routes, route{callee: app, verb: r.Method, path: method})
		rec.mu.Unlock()
	}
	time.Sleep(rec.delay)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, "{}")
}

func invoker(t *testing.T) (*daprx.Invoker, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return daprx.NewInvoker(port), rec
}

// callEvery calls each method of port (an interface an app declares for
// another app) on client, the real client its main wires in, with made-up
// arguments: so the routes recorded are the ones the caller's code can use.
func callEvery(t *testing.T, port reflect.Type, client any) {
	t.Helper()
	cv := reflect.ValueOf(client)
	for i := range port.NumMethod() {
		m := cv.MethodByName(port.Method(i).Name)
		if !m.IsValid() {
			t.Errorf("%T has no %s", client, port.Method(i).Name)
			continue
		}
		var args []reflect.Value
		for j := range m.Type().NumIn() {
			in := m.Type().In(j)
			switch {
			case in == reflect.TypeFor[context.Context]():
				args = append(args, reflect.ValueOf(context.Background()))
			case in.Kind() == reflect.String:
				args = append(args, reflect.ValueOf("ID1").Convert(in))
			default:
				args = append(args, reflect.Zero(in))
			}
		}
		m.Call(args) // errors are the recorder's "{}" answers; the route is what counts
	}
}

// callers lists, per app, what it calls of the others: the ports its code
// declares (implemented by the clients its main wires in), and the batching
// its main turns on (daprx.Invoker.Batch: those calls go to v1/batch).
var callers = map[string]struct {
	calls func(t *testing.T, inv *daprx.Invoker)
	batch func(inv *daprx.Invoker)
}{
	"gateway": {
		calls: func(t *testing.T, inv *daprx.Invoker) {
			callEvery(t, reflect.TypeFor[graph.Orders](), omsclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Catalog](), inventoryclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Payments](), payclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Warehouse](), wmsclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Addresses](), omsclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Wallet](), marketingclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Campaigns](), marketingclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Claims](), marketingclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Gifts](), marketingclient.New(inv))
			// Concurrent claims of one client travel together by their own
			// route (marketingclient's claim queue), as at a pop-up's peak.
			claims := marketingclient.New(inv)
			var wg sync.WaitGroup
			for range 64 { // more than the batches it keeps in flight
				wg.Go(func() { _, _ = claims.ClaimCoupon(context.Background(), marketingclient.ClaimRequest{}) })
			}
			wg.Wait()
			callEvery(t, reflect.TypeFor[graph.AfterSales](), aftersalesclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Documents](), aftersalesclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.Channels](), channelsclient.New(inv))
			callEvery(t, reflect.TypeFor[graph.CSActions](), aftersalesclient.New(inv))
		},
		batch: func(inv *daprx.Invoker) { inv.Batch(omsclient.AppID, omsclient.BatchRoutes...) },
	},
	"oms": {
		calls: func(t *testing.T, inv *daprx.Invoker) {
			callEvery(t, reflect.TypeFor[omsapp.Inventory](), inventoryclient.New(inv))
			callEvery(t, reflect.TypeFor[omsapp.Areas](), inventoryclient.New(inv))
			callEvery(t, reflect.TypeFor[omsapp.Pay](), payclient.New(inv))
			callEvery(t, reflect.TypeFor[omsapp.Warehouse](), wmsclient.New(inv))
			callEvery(t, reflect.TypeFor[omsapp.Coupons](), marketingclient.New(inv))
			callEvery(t, reflect.TypeFor[fulfillment.Gifts](), marketingclient.New(inv))
			callEvery(t, reflect.TypeFor[fulfillment.Warehouse](), wmsclient.New(inv))
			callEvery(t, reflect.TypeFor[fulfillment.Catalog](), inventoryclient.New(inv))
		},
		batch: func(inv *daprx.Invoker) {
			inv.Batch(inventoryclient.AppID, inventoryclient.RouteReserve)
			inv.BatchForThroughput(inventoryclient.AppID, inventoryclient.RouteCatalogBatch)
			inv.BatchForThroughput(marketingclient.AppID, marketingclient.BatchRoutes...)
			inv.BatchForThroughput(wmsclient.AppID, wmsclient.BatchRoutes...)
		},
	},
	"inventory": {calls: func(t *testing.T, inv *daprx.Invoker) {
		callEvery(t, reflect.TypeFor[invapp.Orders](), omsclient.New(inv))
	}},
	"pay": {calls: func(t *testing.T, inv *daprx.Invoker) {
		callEvery(t, reflect.TypeFor[payapp.OMS](), omsclient.New(inv))
		callEvery(t, reflect.TypeFor[payapp.Wallet](), payapp.WalletClient{C: marketingclient.New(inv)})
	}},
	"marketing": {calls: func(t *testing.T, inv *daprx.Invoker) {
		callEvery(t, reflect.TypeFor[mktapp.Holds](), mktapp.PayHolds{C: payclient.New(inv)})
		callEvery(t, reflect.TypeFor[mktapp.Catalog](), mktapp.InventoryCatalog{C: inventoryclient.New(inv)})
	}},
	"aftersales": {calls: func(t *testing.T, inv *daprx.Invoker) {
		callEvery(t, reflect.TypeFor[asapp.Orders](), omsclient.NewForAfterSales(inv))
		callEvery(t, reflect.TypeFor[asapp.Warehouse](), wmsclient.New(inv))
		callEvery(t, reflect.TypeFor[asapp.Payments](), payclient.New(inv))
		callEvery(t, reflect.TypeFor[asapp.Stock](), inventoryclient.New(inv))
		callEvery(t, reflect.TypeFor[asapp.Contacts](), omsclient.NewForAfterSales(inv))
		callEvery(t, reflect.TypeFor[asapp.Coupons](), marketingclient.New(inv))
		callEvery(t, reflect.TypeFor[asapp.Forward](), omsclient.NewForAfterSales(inv))
		callEvery(t, reflect.TypeFor[asapp.Shortages](), wmsclient.New(inv))
	}},
	"channels": {
		calls: func(t *testing.T, inv *daprx.Invoker) {
			callEvery(t, reflect.TypeFor[chapp.Orders](), omsclient.New(inv))
			callEvery(t, reflect.TypeFor[chapp.Catalog](), inventoryclient.New(inv))
		},
		batch: func(inv *daprx.Invoker) {
			inv.Batch(omsclient.AppID, omsclient.BatchRoutes...)
			inv.BatchForThroughput(inventoryclient.AppID, inventoryclient.RouteCatalogBatch)
		},
	},
	// channels reaches the platforms' APIs as HTTPEndpoints (endpoints.yaml).
	// wms calls inventory only to seed (wms/app.Catalog), which production
	// refuses: no grant; TMS it reaches as an HTTPEndpoint (endpoints.yaml).
}

// record returns the routes caller's code invokes, plain and batched.
func record(t *testing.T, caller string) []route {
	t.Helper()
	c := callers[caller]
	inv, rec := invoker(t)
	c.calls(t, inv)
	if c.batch != nil {
		// Batched calls go to v1/batch once calls queue behind the ones in
		// flight: many callers at once against a slow sidecar.
		binv, brec := invoker(t)
		brec.delay = 50 * time.Millisecond
		c.batch(binv)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() { c.calls(t, binv) })
		}
		wg.Wait()
		brec.mu.Lock()
		rec.routes = append(rec.routes, brec.routes...)
		brec.mu.Unlock()
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []route
	for _, r := range rec.routes {
		r.path, _, _ = strings.Cut(r.path, "?") // the ACL matches the path, not the query
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Every Configuration denies by default; every route an app's code invokes
// is allowed for that app on its callee, under daprd's matching and
// under the documented one; every grant is used; and the forgeries of
// issue 10 are refused.
func TestAccessControlLists(t *testing.T) {
	s := load(t)
	acls := map[string]*acl{} // by callee app id
	for _, d := range s.deployments {
		app, cfgName := d.Spec.Template.Annotations["dapr.io/app-id"], d.Spec.Template.Annotations["dapr.io/config"]
		for _, c := range s.dapr["Configuration"] {
			if name(c) == cfgName {
				acls[app] = parseACL(t, cfgName, c)
			}
		}
		if acls[app] == nil {
			t.Fatalf("%s: no Configuration %q", app, cfgName)
		}
	}

	for caller := range callers {
		routes := record(t, caller)
		if len(routes) == 0 {
			t.Fatalf("%s: no route recorded", caller)
		}
		used := map[*operation]bool{}
		for _, r := range routes {
			a := acls[r.callee]
			if a == nil {
				t.Errorf("%s calls %s, which is not deployed", caller, r)
				continue
			}
			if !a.allowedDaprd(caller, r.verb, r.path) {
				t.Errorf("%s → %s refused by daprd's matching of harvest-%s", caller, r, r.callee)
			}
			op := a.allowedDoc(caller, r.verb, r.path)
			if op == nil {
				t.Errorf("%s → %s refused by the documented matching of harvest-%s", caller, r, r.callee)
			}
			used[op] = true
		}
		for callee, a := range acls {
			for _, op := range a.policies[caller] {
				if !used[op] {
					t.Errorf("harvest-%s grants %s %v %s, which its code never calls", callee, caller, op.verbs, op.name)
				}
			}
		}
	}

	// What an attacker holding one app's identity would try next.
	denied := []struct {
		caller string
		r      route
		why    string
	}{
		{"gateway", route{"pay", "POST", "v1/accounts/C0042/credit"}, "credit ¥1,000,000"},
		{"oms", route{"pay", "POST", "v1/accounts/C0042/credit"}, "credit"},
		{"gateway", route{"pay", "POST", "v1/refunds"}, "refund"},
		{"gateway", route{"pay", "POST", "v1/callbacks/WECHAT"}, "a forged channel callback"},
		{"gateway", route{"pay", "POST", "v1/refunds/R1/audit"}, "approve a refund"},
		// Customer service's whole story reads an order's payments and
		// refunds through after-sales' GET v1/orders/{id}/story (one order,
		// no cashier links; aftersales/app/story.go), so the gateway, the
		// internet-facing app, still holds no PAY read of trades or refunds.
		{"gateway", route{"pay", "GET", "v1/trades"}, "list trades"},
		{"gateway", route{"pay", "GET", "v1/refunds"}, "list refunds (the story's come through after-sales)"},
		// after-sales may POST below v1/orders (the unpaid cancel, which
		// checks the customer): its reissues and exchanges place orders
		// through POST v1/orders, and daprd's trie lets that leaf decide
		// for everything below it, as for the gateway and channels.
		{"pay", route{"oms", "POST", "v1/orders"}, "a SALES_PLAN order accepted as paid"},
		{"inventory", route{"oms", "POST", "v1/orders"}, "place an order"},
		{"pay", route{"oms", "POST", "v1/orders/O1/cancel"}, "cancel an order"},
		{"inventory", route{"oms", "PUT", "v1/fulfillment/suspension"}, "stop fulfillment"},
		{"gateway", route{"oms", "GET", "v1/deductions/D1/order"}, "not the gateway's"},
		{"gateway", route{"inventory", "POST", "v1/reservations"}, "reserve stock directly"},
		{"pay", route{"inventory", "POST", "v1/reservations/O1/release"}, "release stock"},
		{"gateway", route{"wms", "POST", "v1/erp-stock"}, "set ERP stock"},
		{"oms", route{"wms", "POST", "v1/erp-stock"}, "set ERP stock"},
		{"oms", route{"wms", "POST", "v1/warehouses/WH-SH/receipts"}, "receive goods"},
		{"gateway", route{"wms", "POST", "v1/tms/parcels/P1/reports"}, "a forged tracking report"},
		{"gateway", route{"wms", "POST", "v1/items"}, "change the item master"},
		{"gateway", route{"wms", "GET", "v1/order-parcels/O1"}, "not the gateway's"},
		{"gateway", route{"marketing", "POST", "v1/batch"}, "gift grants in a batch (claims batch by their own route)"},
		{"oms", route{"marketing", "POST", "v1/coupon-claims/batch"}, "claims are the gateway's"},
		{"marketing", route{"inventory", "POST", "v1/reservations"}, "marketing reads categories, never stock"},
		{"marketing", route{"inventory", "PUT", "v1/catalog/products/SKU-00001"}, "edit the catalog"},
		{"oms", route{"gateway", "POST", "events-bulk/oms.order.paid"}, "nothing calls the gateway"},
		// after-sales reaches OMS and marketing only under prefixes of its
		// own (omsclient.AfterSalesOrdersPath, marketingclient.AfterSalesCouponsPath):
		// nothing of v1/orders or of the wallet.
		{"aftersales", route{"oms", "POST", "v1/orders/O1/cancel"}, "the unpaid cancel, below v1/orders"},
		{"aftersales", route{"oms", "GET", "v1/orders"}, "list every customer's orders"},
		{"aftersales", route{"oms", "POST", "v1/orders"}, "place an order outside its own prefix"},
		{"aftersales", route{"oms", "POST", "v1/orders/batch"}, "the batch read"},
		{"aftersales", route{"oms", "POST", "v1/orders/O1/fulfillment/retry"}, "retry a stage"},
		{"aftersales", route{"marketing", "POST", "v1/coupons"}, "grant a coupon"},
		{"aftersales", route{"marketing", "POST", "v1/coupons/C1/unbind"}, "the wallet's own prefix"},
		{"aftersales", route{"marketing", "POST", "v1/coupon-holds/H1/recheck"}, "PAY's hold recheck"},
		{"gateway", route{"marketing", "POST", "v1/aftersales/coupons/C1/unbind"}, "unbind around the action log"},
		{"gateway", route{"oms", "GET", "v1/aftersales/orders/O1/allocation"}, "after-sales' prefix"},
		{"partners", route{"pay", "POST", "v1/callbacks/WECHAT"}, "an unknown app id"},
		{"partners", route{"oms", "GET", "v1/orders"}, "an unknown app id"},
	}
	for _, d := range denied {
		a := acls[d.r.callee]
		if a.allowedDaprd(d.caller, d.r.verb, d.r.path) || a.allowedDoc(d.caller, d.r.verb, d.r.path) != nil {
			t.Errorf("%s → %s allowed (%s)", d.caller, d.r, d.why)
		}
	}
}

// operation is one allowed (path, verbs) of a policy.
type operation struct {
	name  string
	verbs []string
}

// acl is one callee's access control list: default deny, per caller app id
// its allowed operations.
type acl struct {
	policies map[string][]*operation
	tries    map[string]*trieNode // daprd's lookup structure per caller
}

func parseACL(t *testing.T, cfgName string, c map[string]any) *acl {
	t.Helper()
	ac, _ := dig(c, "spec", "accessControl").(map[string]any)
	if ac == nil {
		t.Fatalf("%s: no accessControl", cfgName)
	}
	if ac["defaultAction"] != "deny" {
		t.Errorf("%s: defaultAction %v, want deny", cfgName, ac["defaultAction"])
	}
	if ac["trustDomain"] != "public" {
		t.Errorf("%s: trustDomain %v, want public (the Sentry default)", cfgName, ac["trustDomain"])
	}
	a := &acl{policies: map[string][]*operation{}, tries: map[string]*trieNode{}}
	ps, _ := ac["policies"].([]any)
	for _, p := range ps {
		pm, _ := p.(map[string]any)
		app := fmt.Sprint(pm["appId"])
		if pm["defaultAction"] != "deny" || pm["namespace"] != namespace || pm["trustDomain"] != "public" {
			t.Errorf("%s: policy for %s: defaultAction %v namespace %v trustDomain %v; want deny, %s, public",
				cfgName, app, pm["defaultAction"], pm["namespace"], pm["trustDomain"], namespace)
		}
		root := &trieNode{char: "/"}
		ops, _ := pm["operations"].([]any)
		for _, o := range ops {
			om, _ := o.(map[string]any)
			if om["action"] != "allow" {
				t.Errorf("%s: %s %v: only allow operations (deny is the default)", cfgName, app, om["name"])
			}
			op := &operation{name: fmt.Sprint(om["name"])}
			vs, _ := om["httpVerb"].([]any)
			for _, v := range vs {
				if fmt.Sprint(v) == "*" {
					t.Errorf("%s: %s %s allows every verb", cfgName, app, op.name)
				}
				op.verbs = append(op.verbs, fmt.Sprint(v))
			}
			a.policies[app] = append(a.policies[app], op)
			root.put(strings.ToLower(op.name), op)
		}
		a.tries[app] = root
	}
	return a
}

// allowedDaprd decides as daprd does (pkg/acl and pkg/config/acl_trie.go,
// the same trie in 1.14 and 1.18):
// the caller's policy, its operation trie, then the verb.
func (a *acl) allowedDaprd(caller, verb, path string) bool {
	root, ok := a.tries[caller]
	if !ok {
		return false
	}
	op := root.search(strings.ToLower("/" + strings.TrimPrefix(path, "/")))
	return op != nil && slices.Contains(op.verbs, verb)
}

// allowedDoc decides as Dapr's documentation says: "*" one path segment,
// "**" any number of them, otherwise the path exactly; it returns the
// operation that allowed the call.
func (a *acl) allowedDoc(caller, verb, path string) *operation {
	for _, op := range a.policies[caller] {
		if slices.Contains(op.verbs, verb) && matchSegments(strings.Split(strings.Trim(op.name, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")) {
			return op
		}
	}
	return nil
}

func matchSegments(pat, path []string) bool {
	switch {
	case len(pat) == 0:
		return len(path) == 0
	case pat[0] == "**":
		return len(path) > 0
	case len(path) == 0:
		return false
	case pat[0] == "*" || strings.EqualFold(pat[0], path[0]):
		return matchSegments(pat[1:], path[1:])
	}
	return false
}

// trieNode re-creates daprd's operation trie (pkg/config/acl_trie.go,
// unchanged from 1.14 to 1.18),
// whose quirks decide what a policy really allows: a "*" segment matches
// only at the end, "/**" anything below, and a granted path also grants
// what lies below it.
type trieNode struct {
	char string
	op   *operation
	subs []*trieNode
}

func (n *trieNode) put(name string, op *operation) {
	parts := strings.Split(name, "/")
	node := n
	for i, p := range parts[1:] {
		char, last := "/"+p, i == len(parts)-2
		var sub *trieNode
		for _, s := range node.subs {
			if s.char == char {
				sub = s
			}
		}
		switch {
		case sub == nil:
			sub = &trieNode{char: char}
			if last {
				sub.op = op
			}
			node.subs = append(node.subs, sub)
			node = sub
		case last:
			if sub.op == nil {
				sub.op = op
			}
		default:
			node = sub
		}
	}
}

func (n *trieNode) search(path string) *operation {
	parts := strings.Split(path, "/")
	node := n
	for i, p := range parts[1:] {
		char, end := "/"+p, i == len(parts)-2
		node = node.find(char, end)
		if node == nil {
			return nil
		}
		if node.op != nil {
			if !end && strings.HasSuffix(node.char, "/*") && !strings.HasSuffix(node.char, "/**") {
				continue
			}
			return node.op
		} else if end {
			if w := node.find("/*", end); w != nil && w.op != nil {
				return w.op
			}
		}
	}
	return nil
}

func (n *trieNode) find(char string, end bool) *trieNode {
	for _, s := range n.subs {
		switch {
		case s.char == char:
			return s
		case s.char == "/*":
			if end {
				return s
			}
			continue
		case s.char == "/**":
			return s
		}
		if ok, _ := filepath.Match(s.char, char); ok { // daprd's in-segment "*" glob
			return s
		}
	}
	return nil
}

func name(m map[string]any) string { return fmt.Sprint(dig(m, "metadata", "name")) }

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}
