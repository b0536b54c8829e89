// Command echo is the stand-in app the launcher's own tests run beside real
// sidecars: it speaks the env contract (HARVEST_HTTP_ADDR…), answers the
// health checks and Dapr's callbacks, echoes invocations and records the
// pub/sub events it receives.
package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := os.Getenv("HARVEST_HTTP_ADDR")
	id := os.Getenv("HARVEST_APP_ID")
	if addr == "" || id == "" {
		log.Fatal("HARVEST_HTTP_ADDR and HARVEST_APP_ID are required")
	}
	var mu sync.Mutex
	var received []json.RawMessage

	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /dapr/config", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, map[string]any{"entities": []string{}}) })
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, []map[string]string{{"pubsubname": "pubsub", "topic": "stacktest", "route": "/events"}})
	})
	mux.HandleFunc("POST /events", func(w http.ResponseWriter, r *http.Request) {
		var ce struct {
			Data json.RawMessage `json:"data"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &ce); err != nil {
			writeJSON(w, map[string]string{"status": "DROP"})
			return
		}
		mu.Lock()
		received = append(received, ce.Data)
		mu.Unlock()
		writeJSON(w, map[string]string{"status": "SUCCESS"})
	})
	mux.HandleFunc("GET /received", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, received)
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"app": id, "pid": os.Getpid()})
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, _ *http.Request) {
		env := map[string]string{}
		for _, k := range []string{"HARVEST_APP_ID", "HARVEST_HTTP_ADDR", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT",
			"HARVEST_MYSQL_DSN", "HARVEST_REDIS_ADDR", "HARVEST_REDIS_DB", "HARVEST_PUBSUB", "HARVEST_ENV",
			"HARVEST_JWT_SECRET", "ECHO_EXTRA"} {
			env[k] = os.Getenv(k)
		}
		writeJSON(w, env)
	})

	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
