package stack

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// The committed CLI run file is what the launcher's layout renders for
// every app of the repo, and components/local's HTTPEndpoint points at
// partners' public port in that layout.
func TestRunFileIsCurrent(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	apps, err := DiscoverApps(filepath.Join(root, "apps"))
	if err != nil {
		t.Fatal(err)
	}
	want := RunFile(apps)
	got, err := os.ReadFile(filepath.Join(root, "deploy", "dapr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("deploy/dapr.yaml is stale: run `go run ./deploy/local/cmd/harvest-stack runfile > deploy/dapr.yaml` (apps %v)", apps)
	}
	for _, app := range apps {
		if !bytes.Contains(want, []byte("  - appID: "+app+"\n")) {
			t.Fatalf("run file lacks %s", app)
		}
	}
	ep, err := os.ReadFile(filepath.Join(root, "components", "local", OutsideEndpointFile))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*baseUrl:\s*(\S+)$`).FindSubmatch(ep)
	if m == nil || string(m[1]) != "http://"+PublicAddrIn(apps, "partners") {
		t.Fatalf("%s: its baseUrl is not http://%s, partners' public port under the CLI run file", OutsideEndpointFile, PublicAddrIn(apps, "partners"))
	}
	if !bytes.Contains(ep, []byte("value: "+RunFileOutsideKey+"\n")) {
		t.Fatalf("%s: its partner key is not %s, which the run file gives partners", OutsideEndpointFile, RunFileOutsideKey)
	}
}
