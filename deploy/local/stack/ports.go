package stack

import (
	"fmt"
	"net"
	"sort"
	"strconv"
)

// PublicEnv names, for each app with a public listener, the variable its
// address goes in: the gateway's GraphQL, channels' marketplace push
// endpoints, and the partners stand-in's cashier pages and outside APIs.
// Every other app has none.
var PublicEnv = map[string]string{
	"gateway":  "HARVEST_PUBLIC_ADDR",
	"channels": "HARVEST_PUBLIC_ADDR",
	"partners": "PARTNERS_PUBLIC_ADDR",
}

// allocatePorts lays out every listener of the stack. Fixed: the dev
// layout from DevBasePort (the gateway's public listener on 8080), checked
// free first so a second dev stack fails with a clear message. Otherwise:
// ports the OS hands out, all held open together while picking so none
// repeats.
func (s *Stack) allocatePorts() error {
	apps := append([]string(nil), s.opts.Apps...)
	sort.Strings(apps)
	s.ports = make(map[string]AppPorts, len(apps))
	if s.opts.FixedPorts {
		s.fixedLayout(apps)
		all := []int{s.pports.GRPC, s.pports.Health, s.pports.Metrics, s.pports.Raft}
		all = append(all, s.sports.list()...)
		for _, app := range apps {
			all = append(all, s.ports[app].list()...)
		}
		for _, port := range all {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return fmt.Errorf("port %d is taken (is another %s stack running? `make down` stops it): %w", port, s.opts.Name, err)
			}
			l.Close()
		}
		return nil
	}
	n := 4 + 5 // placement, scheduler
	for _, app := range apps {
		n += 6
		if _, ok := PublicEnv[app]; ok {
			n++
		}
	}
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	s.pports = PlacementPorts{GRPC: ports[0], Health: ports[1], Metrics: ports[2], Raft: ports[3]}
	s.sports = SchedulerPorts{GRPC: ports[4], Health: ports[5], Metrics: ports[6], EtcdClient: ports[7], EtcdPeer: ports[8]}
	q := ports[9:]
	for _, app := range apps {
		p := AppPorts{App: q[0], DaprHTTP: q[1], DaprGRPC: q[2], DaprInternal: q[3], DaprMetrics: q[4], Ops: q[5]}
		q = q[6:]
		if _, ok := PublicEnv[app]; ok {
			p.Public, q = q[0], q[1:]
		}
		s.ports[app] = p
	}
	return nil
}

// fixedLayout is the dev layout of apps (sorted) from DevBasePort; the
// CLI run file (RunFile) is rendered from the same layout.
func (s *Stack) fixedLayout(apps []string) {
	b := DevBasePort
	s.pports = PlacementPorts{GRPC: b, Health: b + 1, Metrics: b + 2, Raft: b + 3}
	s.sports = SchedulerPorts{GRPC: b + 4, Health: b + 5, Metrics: b + 6, EtcdClient: b + 7, EtcdPeer: b + 8}
	for i, app := range apps {
		blk := b + 10*(i+1)
		p := AppPorts{App: blk, DaprHTTP: blk + 1, DaprGRPC: blk + 2, DaprInternal: blk + 3, DaprMetrics: blk + 4, Ops: blk + 5}
		if _, ok := PublicEnv[app]; ok {
			p.Public = blk + 6
		}
		if app == "gateway" {
			_, port, _ := net.SplitHostPort(DevGatewayAddr)
			p.Public, _ = strconv.Atoi(port)
		}
		s.ports[app] = p
	}
}

// list is every port of p that is in use.
func (p AppPorts) list() []int {
	l := []int{p.App, p.DaprHTTP, p.DaprGRPC, p.DaprInternal, p.DaprMetrics, p.Ops}
	if p.Public != 0 {
		l = append(l, p.Public)
	}
	return l
}

// list is every port of the Scheduler.
func (p SchedulerPorts) list() []int {
	return []int{p.GRPC, p.Health, p.Metrics, p.EtcdClient, p.EtcdPeer}
}
