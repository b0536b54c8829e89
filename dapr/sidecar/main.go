// Command daprd is the Dapr sidecar Harvest runs beside every app.
//
// The Dapr CLI cannot be installed where Harvest is built, so the sidecar is
// compiled from the github.com/dapr/dapr module itself (v1.18.0; see
// go.mod, and the Makefile for the version stamp). It must be built with
// -tags stablecomponents (without a component tag daprd panics at start, and
// allcomponents does not compile on current Go). The few components Harvest
// needs that only allcomponents carries are registered in extras.go, the way
// dapr's own cmd/daprd/components files do.
package main

import (
	"github.com/dapr/dapr/cmd/daprd/app"
)

func main() {
	keepOutsideConnections()
	app.Run()
}
