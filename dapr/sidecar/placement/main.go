// Command placement is Dapr's actor placement service, built from the same
// github.com/dapr/dapr module version as the sidecar so the two always agree
// on the placement protocol.
package main

import (
	"github.com/dapr/dapr/cmd/placement/app"
)

func main() {
	app.Run()
}
