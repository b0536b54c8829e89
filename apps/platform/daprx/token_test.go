package daprx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tokenSidecar refuses, as daprd started with DAPR_API_TOKEN does, every
// call that lacks the token, and carries the rest to the callee.
type tokenSidecar struct {
	token   string
	next    http.Handler
	refused atomic.Int64
}

func (s *tokenSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(APITokenHeader) != s.token {
		s.refused.Add(1)
		http.Error(w, "invalid api token", http.StatusUnauthorized)
		return
	}
	s.next.ServeHTTP(w, r)
}

// TestInvokerSendsAPIToken: with WithAPIToken every call to the sidecar
// carries dapr-api-token, a call alone and a batch alike; without it the
// sidecar refuses.
func TestInvokerSendsAPIToken(t *testing.T) {
	var handled atomic.Int64
	sc := &tokenSidecar{token: "sidecar-secret", next: &fakeSidecar{callee: callee(&handled)}}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])

	var out struct{ N int }
	if err := NewInvoker(port).Invoke(context.Background(), "callee", http.MethodPost, "v1/double", map[string]int{"n": 2}, &out); err == nil {
		t.Fatal("a call without the token went through")
	}
	inv := NewInvoker(port, WithAPIToken("sidecar-secret"))
	if err := inv.Invoke(context.Background(), "callee", http.MethodPost, "v1/double", map[string]int{"n": 2}, &out); err != nil || out.N != 4 {
		t.Fatalf("call alone: %v, %+v", err, out)
	}
	inv.Batch("callee", Route(http.MethodPost, "v1/double"))
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var o struct{ N int }
			if err := inv.Invoke(context.Background(), "callee", http.MethodPost, "v1/double", map[string]int{"n": 2 * i}, &o); err != nil {
				t.Errorf("batched call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if sc.refused.Load() != 1 {
		t.Fatalf("sidecar refused %d calls, want only the one sent without the token", sc.refused.Load())
	}
}
