package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// every Linux Harvest runs on).
const clockTicks = 100

// cpuTimes reads the CPU time (user + system, in ticks) used so far by
// each process of pids, by name, and by the MariaDB and Redis servers,
// found by command name. The servers are shared: whatever else they serve
// during a run is counted too. The load run itself is counted as
// "(harvest-load)": the clients a stack serves spend CPU on the same two
// cores, so a figure per item without them flatters the stack.
func cpuTimes(pids map[string]int) map[string]int64 {
	out := map[string]int64{}
	if t, ok := procTicks(os.Getpid()); ok {
		out["(harvest-load)"] = t
	}
	for name, pid := range pids {
		if t, ok := procTicks(pid); ok {
			out[name] = t
		}
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		if name != "mariadbd" && name != "mysqld" && name != "redis-server" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		if t, ok := procTicks(pid); ok {
			out["("+name+")"] += t
		}
	}
	return out
}

func procTicks(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, true
}

// printCPUPerItem prints, largest first, the CPU milliseconds each process
// spent per item between two cpuTimes readings.
func printCPUPerItem(before, after map[string]int64, items int64, what string) {
	if items <= 0 {
		return
	}
	type row struct {
		name string
		ms   float64
	}
	var rows []row
	var total float64
	for name, t := range after {
		d := t - before[name]
		if d <= 0 {
			continue
		}
		ms := float64(d) * 1000 / clockTicks / float64(items)
		rows = append(rows, row{name, ms})
		total += ms
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ms > rows[j].ms })
	fmt.Printf("CPU per %s: %.2f ms in all (2 cores give 2,000 ms each second)\n", what, total)
	for _, r := range rows {
		if r.ms >= 0.05 {
			fmt.Printf("  %-22s %6.2f ms\n", r.name, r.ms)
		}
	}
}
