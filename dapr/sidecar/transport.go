package main

import (
	"net/http"
	"time"
)

// keepOutsideConnections lets daprd keep its connections to non-Dapr
// endpoints (HTTPEndpoint resources, such as partners-outside) open for
// reuse. daprd (1.14, and still 1.18.0: pkg/runtime/channels/channels.go,
// getHTTPEndpointAppChannel) builds each endpoint's HTTP client from a
// clone of http.DefaultTransport, which keeps at most 2 idle connections
// per host:
// with fulfillment's dozens of concurrent calls to one partner, nearly
// every call dialed a new TCP connection and closed it afterwards, and the
// dialing and the partner's accepting cost more CPU than the calls. It must
// run before app.Run, which creates the channels.
func keepOutsideConnections() {
	t := http.DefaultTransport.(*http.Transport)
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
}
