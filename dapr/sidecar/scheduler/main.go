// Command scheduler is Dapr's Scheduler service (jobs, and actor reminders
// since Dapr 1.15), built from the same github.com/dapr/dapr module version
// as the sidecar so the two always agree on the scheduler protocol. It runs
// an embedded etcd; the launcher keeps its data under the stack's run
// directory.
package main

import (
	"github.com/dapr/dapr/cmd/scheduler/app"
)

func main() {
	app.Run()
}
