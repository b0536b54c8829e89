// Package runner runs units of work through a pipeline of named stages and
// knows nothing of what the stages do: it owns the units' rows, their
// leases and fencing, claiming due units (and, as catch-up, units whose
// lease ran out), a bounded queue and workers per stage, the group commit
// of outcomes, each partner stage's circuit breaker, pauses and the
// durable timer that resumes them, the operators' suspension of the whole
// pipeline, and holds of one key's units (an order paused by another app).
//
// A pipeline is a list of Stage values, each declared once (name, kind,
// concurrency, flags, the units it applies to, its function); a stage
// function gets a unit under lease and returns an Outcome with the effects
// to commit, which the runner hands to Hooks.Apply inside the commit's
// transaction. A root unit that passes its last stage splits into child
// units (Hooks.Split); when every child is done, Hooks.Done runs.
//
// Units are stored in the fulfillments tables; a stage is stored by name.
package runner
