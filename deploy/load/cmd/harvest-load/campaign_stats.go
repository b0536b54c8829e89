package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// loadAverage is the machine's 1, 5 and 15 minute load averages, for the
// report beside a rate measured on shared cores.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// serverStatements reads MariaDB's statement counters (server-wide: the
// other databases' statements during a run are counted too, so the figure
// per item is an upper bound on a shared server).
func serverStatements(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SHOW GLOBAL STATUS WHERE Variable_name IN
		('Questions','Com_select','Com_insert','Com_update','Com_delete','Com_commit')`)
	if err != nil {
		return nil, fmt.Errorf("read MariaDB's statement counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			return nil, err
		}
		out[name], _ = strconv.ParseInt(v, 10, 64)
	}
	return out, rows.Err()
}

func printStatementsPerItem(before, after map[string]int64, items int64, what string) {
	if items <= 0 {
		return
	}
	per := func(k string) float64 { return float64(after[k]-before[k]) / float64(items) }
	fmt.Printf("MariaDB statements per %s (server-wide, an upper bound): %.2f (select %.2f, insert %.2f, update %.2f, delete %.2f, commit %.2f)\n",
		what, per("Questions"), per("Com_select"), per("Com_insert"), per("Com_update"), per("Com_delete"), per("Com_commit"))
}

// printBulkSizes prints, from an app's /metrics, how many messages its
// bulk subscriptions were handed per delivery, by topic.
func printBulkSizes(ctx context.Context, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Printf("bulk sizes: metrics unreadable: %v\n", err)
		return
	}
	defer resp.Body.Close()
	sums, counts := map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for suffix, into := range map[string]map[string]float64{"_sum{": sums, "_count{": counts} {
			name := "harvest_bulk_delivery_messages" + suffix
			if !strings.HasPrefix(line, name) {
				continue
			}
			i := strings.Index(line, `topic="`)
			j := strings.LastIndexByte(line, ' ')
			if i < 0 || j < 0 {
				continue
			}
			topic := line[i+len(`topic="`):]
			topic = topic[:strings.IndexByte(topic, '"')]
			v, _ := strconv.ParseFloat(line[j+1:], 64)
			into[topic] = v
		}
	}
	for topic, n := range counts {
		if n > 0 {
			fmt.Printf("bulk deliveries of %s: %.0f, %.1f messages each on average\n", topic, n, sums[topic]/n)
		}
	}
}
