// Command echo is the stand-in app the launcher's own tests run beside real
// sidecars: it speaks the env contract (HARVEST_HTTP_ADDR…), answers the
// health checks on its ops listener (HARVEST_OPS_ADDR) and Dapr's callbacks
// on its app listener, which, like every Harvest app's, takes only calls
// carrying APP_API_TOKEN; it echoes invocations (/hello, and /slow?ms=N
// after sleeping N ms), and records the pub/sub events and the Scheduler's
// jobs it receives.
package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr, opsAddr := os.Getenv("HARVEST_HTTP_ADDR"), os.Getenv("HARVEST_OPS_ADDR")
	id, token := os.Getenv("HARVEST_APP_ID"), os.Getenv("APP_API_TOKEN")
	if addr == "" || opsAddr == "" || id == "" || token == "" {
		log.Fatal("HARVEST_HTTP_ADDR, HARVEST_OPS_ADDR, HARVEST_APP_ID and APP_API_TOKEN are required")
	}
	var mu sync.Mutex
	var received []json.RawMessage
	jobs := map[string]int{}

	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	ops.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux := http.NewServeMux()
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
	// /slow?ms=N answers after N ms; with &kb=K it answers at once and
	// drips a K KiB body over N ms, so a caller's timeout fires while the
	// answer is being copied.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		kb, _ := strconv.Atoi(r.URL.Query().Get("kb"))
		const chunks = 16
		pause := time.Duration(ms) * time.Millisecond
		if kb > 0 {
			pause /= chunks
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(http.StatusOK)
		}
		chunk := make([]byte, kb*1024/chunks)
		for i := range chunks {
			if kb > 0 {
				_, _ = w.Write(chunk)
				w.(http.Flusher).Flush()
			} else if i > 0 {
				break
			}
			select {
			case <-time.After(pause):
			case <-r.Context().Done():
				return
			}
		}
		if kb == 0 {
			writeJSON(w, map[string]any{"app": id, "pid": os.Getpid()})
		}
	})
	// The Scheduler's jobs arrive as POST /job/<name> (daprd's HTTP channel).
	mux.HandleFunc("POST /job/{name}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		jobs[r.PathValue("name")]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, jobs)
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, _ *http.Request) {
		env := map[string]string{}
		for _, k := range []string{"HARVEST_APP_ID", "HARVEST_HTTP_ADDR", "HARVEST_OPS_ADDR", "APP_API_TOKEN", "DAPR_API_TOKEN", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT",
			"HARVEST_MYSQL_DSN", "HARVEST_REDIS_ADDR", "HARVEST_REDIS_DB", "HARVEST_PUBSUB", "HARVEST_ENV",
			"HARVEST_JWT_SECRET", "ECHO_EXTRA"} {
			env[k] = os.Getenv(k)
		}
		writeJSON(w, env)
	})

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("dapr-api-token") != token {
			http.Error(w, "no app token", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: addr, Handler: app, ReadHeaderTimeout: 5 * time.Second}
	opsSrv := &http.Server{Addr: opsAddr, Handler: ops, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := opsSrv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = opsSrv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
