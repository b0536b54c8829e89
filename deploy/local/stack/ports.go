package stack

import (
	"fmt"
	"net"
	"sort"
	"strconv"
)

// allocatePorts lays out every listener of the stack. Fixed: the dev
// layout from DevBasePort (gateway on 8080), checked free first so a
// second dev stack fails with a clear message. Otherwise: ports the OS
// hands out, all held open together while picking so none repeats.
func (s *Stack) allocatePorts() error {
	apps := append([]string(nil), s.opts.Apps...)
	sort.Strings(apps)
	s.ports = make(map[string]AppPorts, len(apps))
	if s.opts.FixedPorts {
		b := DevBasePort
		s.pports = PlacementPorts{GRPC: b, Health: b + 1, Metrics: b + 2, Raft: b + 3}
		for i, app := range apps {
			blk := b + 10*(i+1)
			p := AppPorts{App: blk, DaprHTTP: blk + 1, DaprGRPC: blk + 2, DaprInternal: blk + 3, DaprMetrics: blk + 4}
			if app == "gateway" {
				_, port, _ := net.SplitHostPort(DevGatewayAddr)
				p.App, _ = strconv.Atoi(port)
			}
			s.ports[app] = p
		}
		var all []int
		all = append(all, s.pports.GRPC, s.pports.Health, s.pports.Metrics, s.pports.Raft)
		for _, app := range apps {
			p := s.ports[app]
			all = append(all, p.App, p.DaprHTTP, p.DaprGRPC, p.DaprInternal, p.DaprMetrics)
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
	n := 4 + 5*len(apps)
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
	for i, app := range apps {
		q := ports[4+5*i:]
		s.ports[app] = AppPorts{App: q[0], DaprHTTP: q[1], DaprGRPC: q[2], DaprInternal: q[3], DaprMetrics: q[4]}
	}
	return nil
}
