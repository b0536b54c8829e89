// Package fulfillment is OMS's fulfillment engine (履约, DOMAIN 1.6): it walks
// every paid order through the sixteen stages — notifications, exception
// check, gifts, fill, allocation, payment voucher, split, fraud audit,
// presale push, effective time, waybill, ERP stock, warehouse throttle,
// reissue/exchange SMS, invoice and dispatch — as a durable state machine.
//
// # Units and stages
//
// A unit is what walks the stages: the order itself for stages 1–10, then,
// from the split's plan, one delivery (child) order per warehouse, delivery
// date and drop-ship supplier for stages 11–16, each on its own; the
// customer still sees one order, which becomes DISPATCHED when its last
// child is dispatched. Order-level work after the split (reissue SMS,
// invoice) runs on the first child only, with order-level idempotency ids.
// A stage that does not apply to a unit (presale push without presale
// lines, waybill for a drop-ship child) is skipped by the state machine
// rather than run, so it costs no commit.
//
// Each stage has its own worker: a bounded queue (channel) and its own
// number of goroutines, set per stage through the environment and
// defaulting by kind: I/O-bound stages 32, CPU-bound stages
// runtime.NumCPU() — except the warehouse throttle, CPU in the DOMAIN
// table but here a wait for a shared transaction on hot rows, which is
// sized like an I/O stage. A stage returns an Outcome — next, pause until
// a time, retry after a delay, fail (exception queue) or cancel — and the
// engine commits it and hands the unit to the next stage's queue.
//
// # Durability and leases
//
// The fulfillments table holds every unit's stage, state and working
// document (stage results included); the in-memory queues only carry
// copies. An instance works on a unit only while it holds the unit's lease
// (owner, token, expiry), taken by a conditional UPDATE checked by rows
// affected, and every commit is fenced by the token: a unit whose lease
// was taken over is dropped, so two instances never run the same unit's
// stage at once. A unit stuck in a stage past its lease (its instance
// died, or a stage hung) is taken up again by exactly one instance
// (catch-up). A crash loses nothing: the unit's row says where it was.
//
// # Group commit
//
// A stage's outcome is committed before its unit moves on, but not by the
// worker: workers hand outcomes to a few committers (each order's to the
// same one), which write every outcome waiting at that moment in one READ
// COMMITTED transaction, set-wise: one locking read of the batch's units
// by primary key is the lease fence (a unit whose token or state no longer
// matches is dropped), then one multi-row write of their new rows, one
// INSERT of new delivery orders, one of the timeline rows, and for
// delivery orders dispatched one count-off of their order units and one
// update of the orders that are done (store.UpdateManyTx). A small
// goroutine per outcome queues the unit for its next stage once its
// transaction commits. An order has about fourteen outcomes, so a commit
// each, or a statement each, would tie the engine to the database's round
// trips and fsyncs; batched, they are shared and a CPU stage's two workers
// are never held up by the disk. A batch that fails because of one outcome
// is retried outcome by outcome. The starts of paid orders that arrive
// together share a transaction the same way. The warehouse throttle keeps
// transactions of its own, outside the group commit: its capacity rows are
// hot, and a batch holding them until its fsync would queue every batch
// behind it; the takes waiting at a moment share one short transaction per
// warehouse instead.
//
// # Idempotent stages
//
// Stage results are committed into the unit's document together with the
// move to the next stage, and every outside call carries a stable id made
// of the order or delivery order id and the stage (the SMS message id,
// voucher id, waybill's delivery order id…) that the partner deduplicates.
// A stage re-run after a crash between its call and its commit therefore
// sends the same id again and gets the first result back: no second SMS,
// waybill or voucher. The warehouse throttle records its grant per
// delivery order in the same transaction as the capacity increment.
//
// # The durable timer
//
// Pauses (effective time, full warehouse) and retry delays are rows in
// state PAUSED or READY with resume_at. The feeder asks the (state,
// resume_at) index for the earliest due time — an O(log n) lookup, not a
// scan — sleeps until then (at most Horizon, so rows written by other
// instances are seen within it), and claims what is due in batches. Pauses
// thus resume within about a second of their time, survive restarts, and
// cost nothing while they wait. Dapr actor reminders (one per paused
// order), which OMS already uses for payment expiry, were not chosen here:
// a peak day pauses up to 150k orders at the same 18:00 cutoff, and a
// reminder per order would mean 150k registrations and fires through the
// sidecar and placement, the fires would still need a sweep because
// reminders can be late or lost, and they would arrive one by one, where
// the indexed query claims hundreds of due orders per round trip.
//
// # Back-pressure and circuit breakers
//
// The feeder claims no more units than there is room for in memory
// (MaxInFlight: every unit claimed, queued, running or waiting for its
// commit counts), and a unit whose next stage's queue is full waits for
// room, so a slow stage, or a slow database, slows intake instead of
// growing memory. Each stage that
// calls a partner has an in-process circuit breaker: after a run of
// passing failures it opens, the stage's workers stop taking units (they
// wait in the queue, where they keep their lease) until a probe succeeds,
// and failed units are retried with backoff rather than failed. The Dapr
// resiliency policy for the partners app (dapr/resiliency.yaml: timeout,
// retries with backoff, breaker) sits beneath it at the sidecar.
package fulfillment
