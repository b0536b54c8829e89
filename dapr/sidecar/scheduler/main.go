// Command scheduler is Dapr's scheduler service (an embedded etcd), built
// from the same github.com/dapr/dapr version as the sidecar. With the
// SchedulerReminders feature the sidecars keep actor reminders here instead
// of in the state store, where daprd 1.14 rewrites and re-reads every
// reminder of an actor type on each registration.
package main

import (
	"github.com/dapr/dapr/cmd/scheduler/app"
)

func main() {
	app.Run()
}
