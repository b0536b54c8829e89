package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/harvest/harvest/deploy/local/stack"
)

// profileApps, when HARVEST_LOAD_PPROF names a directory, takes a CPU
// profile of each of apps (from its ops port, development only) for d,
// starting after wait, into <dir>/<app>.pprof: where a run's CPU goes.
func profileApps(st *stack.Stack, wait, d time.Duration, apps ...string) {
	profilePhase(st, "", wait, d, apps...)
}

// profilePhase is profileApps into <dir>/<app><phase>.pprof, for a run
// with more than one phase to tell apart (the marketplace's push, then
// its making).
func profilePhase(st *stack.Stack, phase string, wait, d time.Duration, apps ...string) {
	dir := os.Getenv("HARVEST_LOAD_PPROF")
	if dir == "" {
		return
	}
	for _, app := range apps {
		go func() {
			time.Sleep(wait)
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", st.OpsAddr(app), int(d.Seconds())))
			if err != nil {
				fmt.Fprintln(os.Stderr, "profile", app+":", err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(filepath.Join(dir, app+phase+".pprof"))
			if err != nil {
				fmt.Fprintln(os.Stderr, "profile", app+":", err)
				return
			}
			defer f.Close()
			_, _ = io.Copy(f, resp.Body)
		}()
	}
}
