package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Publisher sends one CloudEvent (JSON) to a topic.
type Publisher interface {
	Publish(ctx context.Context, topic string, cloudEvent []byte) error
}

// BulkPublisher is a Publisher that can also publish several CloudEvents of
// one topic in one call (Dapr's bulk publish), answering the indexes of
// those that failed; err alone means none went out. The relay uses it when
// the Publisher has it: one call per topic for a pass's events instead of
// one per event.
type BulkPublisher interface {
	Publisher
	PublishBulk(ctx context.Context, topic string, cloudEvents [][]byte) (failed []int, err error)
}

// maxBulk bounds the events of one bulk publish.
const maxBulk = 100

var (
	publishedTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_outbox_published_total", Help: "Outbox events published, by topic.",
	}, []string{"topic"})
	publishErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_outbox_publish_errors_total", Help: "Failed publish attempts, by topic.",
	}, []string{"topic"})
	pendingGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "harvest_outbox_pending", Help: "Events read by the last relay pass and not yet published.",
	})
	lagSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "harvest_outbox_lag_seconds", Help: "Time from an event's commit to its publication.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	})
)

// RelayOptions tune a Relay; zero values take the defaults.
type RelayOptions struct {
	Source string        // CloudEvent source, the app id
	Batch  int           // rows read per pass (default 500)
	Lanes  int           // aggregates published in parallel (default 16)
	Poll   time.Duration // idle wait between passes when not notified (default 250ms)
	// LockName names the MariaDB advisory lock that keeps one relay per
	// database active, so several replicas never reorder an aggregate's
	// events. MariaDB's user locks are server-wide, so the database's name
	// is appended: the apps sharing one server each get their own relay.
	LockName string
	// LockCheck is how often the leader asks MariaDB whether the lock is
	// still its own, busy or idle (default 1s). The lock lives on one
	// connection; when that connection dies (killed, timed out, a network
	// cut) the server frees the lock and another replica takes it at once,
	// so this bounds how long two relays may publish side by side.
	LockCheck time.Duration
	Logger    *slog.Logger
}

// Relay publishes committed outbox rows and deletes them once the broker
// has them. A crash between publish and delete republishes; consumers'
// inboxes absorb that.
type Relay struct {
	db     *sql.DB
	pub    Publisher
	opt    RelayOptions
	wake   chan struct{}
	logger *slog.Logger
}

// NewRelay returns a relay over db's outbox table.
func NewRelay(db *sql.DB, pub Publisher, opt RelayOptions) *Relay {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Lanes <= 0 {
		opt.Lanes = 16
	}
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	if opt.LockName == "" {
		opt.LockName = "harvest_outbox_relay"
	}
	if opt.LockCheck <= 0 {
		opt.LockCheck = time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Relay{db: db, pub: pub, opt: opt, wake: make(chan struct{}, 1), logger: opt.Logger}
}

// Notify asks the relay to look for new rows now; call it after a commit
// that added events, so publication does not wait for the next poll.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx is done. The relay that holds the lock then drains
// what is left, for at most drainTimeout, so a clean stop leaves nothing
// behind; a replica that never led has nothing to drain.
func (r *Relay) Run(ctx context.Context, drainTimeout time.Duration) error {
	for ctx.Err() == nil {
		err := r.leading(ctx, drainTimeout)
		if err != nil && ctx.Err() == nil {
			r.logger.Warn("outbox relay lost its lock or connection; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// ErrLockLost is what leading returns when the relay finds it no longer
// holds the leader lock.
var ErrLockLost = errors.New("outbox relay lost its leader lock")

// leading holds the advisory lock on a pinned connection and relays while
// it has it; a second replica waits here until the first one goes away.
// A watcher re-checks the lock every LockCheck, also while passes follow
// one another without a pause, and cancels the work the moment the lock is
// gone: publishing stops within about LockCheck of losing it.
func (r *Relay) leading(ctx context.Context, drainTimeout time.Duration) error {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(CONCAT(?, ':', DATABASE()), 1)`, r.opt.LockName).Scan(&got); err != nil {
			return fmt.Errorf("get relay lock: %w", err)
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	// held ends when the lock is lost (cause ErrLockLost) or leading returns;
	// work also ends when ctx does. The drain on stop runs under held.
	held, lose := context.WithCancelCause(context.WithoutCancel(ctx))
	watched := make(chan struct{})
	go func() { defer close(watched); r.watchLock(held, lose, conn) }()
	defer func() { // last: the watcher is done with conn before the release
		lose(nil)
		<-watched
		// Harmless when the lock is already gone; bounded, for a connection
		// that no longer answers.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(rctx, `SELECT RELEASE_LOCK(CONCAT(?, ':', DATABASE()))`, r.opt.LockName)
	}()
	work, stopWork := context.WithCancel(held)
	defer stopWork()
	defer context.AfterFunc(ctx, stopWork)()
	defer func() { // still under the lock: runs before the release
		if ctx.Err() != nil && held.Err() == nil {
			r.drain(held, drainTimeout)
		}
	}()
	for work.Err() == nil {
		n, err := r.Pass(work)
		if err != nil && work.Err() == nil {
			r.logger.Warn("outbox relay pass failed", "err", err)
		}
		if n == r.opt.Batch {
			continue // more waiting: no sleep
		}
		select {
		case <-work.Done():
		case <-r.wake:
		case <-time.After(r.opt.Poll):
		}
	}
	if errors.Is(context.Cause(held), ErrLockLost) {
		return context.Cause(held)
	}
	return nil
}

// watchLock asks, every LockCheck, whether the lock on conn is still this
// connection's, and calls lose when it is not or the answer does not come
// within the bound (a connection that cannot answer may already have been
// dropped by the server, freeing the lock).
func (r *Relay) watchLock(held context.Context, lose context.CancelCauseFunc, conn *sql.Conn) {
	t := time.NewTicker(r.opt.LockCheck)
	defer t.Stop()
	for {
		select {
		case <-held.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(held, max(r.opt.LockCheck, time.Second))
		var mine sql.NullInt64
		err := conn.QueryRowContext(qctx, `SELECT IS_USED_LOCK(CONCAT(?, ':', DATABASE())) = CONNECTION_ID()`, r.opt.LockName).Scan(&mine)
		cancel()
		switch {
		case held.Err() != nil:
			return
		case err != nil:
			lose(fmt.Errorf("%w: check on its connection failed: %v", ErrLockLost, err))
			return
		case !mine.Valid || mine.Int64 != 1:
			lose(fmt.Errorf("%w: another connection holds it or none does", ErrLockLost))
			return
		}
	}
}

func (r *Relay) drain(held context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(held, timeout)
	defer cancel()
	for {
		n, err := r.Pass(ctx)
		if err != nil {
			r.logger.Warn("outbox drain stopped; rows stay for the next start", "err", err)
			return
		}
		if n == 0 {
			return
		}
	}
}

type row struct {
	seq       uint64
	id, topic string
	aggregate string
	typ       string
	payload   []byte
	created   time.Time
}

// Pass publishes up to one batch of rows and returns how many it published.
// Rows of one aggregate go out one after another in seq order; different
// aggregates go out in parallel lanes. A failure stops only its lane, and
// the rows after it wait for the next pass, keeping per-aggregate order.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	rows, err := r.db.QueryContext(ctx,
		`SELECT seq, msg_id, topic, aggregate_id, event_type, payload, created_at FROM outbox ORDER BY seq LIMIT ?`, r.opt.Batch)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var batch []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.seq, &x.id, &x.topic, &x.aggregate, &x.typ, &x.payload, &x.created); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	pendingGauge.Set(float64(len(batch)))
	if len(batch) == 0 {
		return 0, nil
	}
	var (
		done []uint64
		errs []error
	)
	if bp, ok := r.pub.(BulkPublisher); ok {
		done, errs = r.publishWaves(ctx, bp, batch)
	} else {
		done, errs = r.publishLanes(ctx, batch)
	}
	if err := r.remove(ctx, done); err != nil {
		return 0, err
	}
	pendingGauge.Set(float64(len(batch) - len(done)))
	return len(done), errors.Join(errs...)
}

// publishLanes publishes batch one event at a time, aggregates spread over
// parallel lanes; a failure stops its lane (its aggregates) for this pass.
func (r *Relay) publishLanes(ctx context.Context, batch []row) ([]uint64, []error) {
	lanes := make([][]row, r.opt.Lanes)
	for _, x := range batch {
		h := fnv.New32a()
		h.Write([]byte(x.aggregate))
		k := int(h.Sum32() % uint32(r.opt.Lanes))
		lanes[k] = append(lanes[k], x)
	}
	var (
		mu   sync.Mutex
		done []uint64
		errs []error
		wg   sync.WaitGroup
	)
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func(lane []row) {
			defer wg.Done()
			for _, x := range lane {
				if ctx.Err() != nil { // stopped, or the lock is gone: not one more
					mu.Lock()
					errs = append(errs, context.Cause(ctx))
					mu.Unlock()
					return
				}
				if err := r.publish(ctx, x); err != nil {
					publishErrors.WithLabelValues(x.topic).Inc()
					mu.Lock()
					errs = append(errs, fmt.Errorf("publish %s %s: %w", x.topic, x.id, err))
					mu.Unlock()
					return
				}
				r.published(x)
				mu.Lock()
				done = append(done, x.seq)
				mu.Unlock()
			}
		}(lane)
	}
	wg.Wait()
	return done, errs
}

// publishWaves publishes batch in bulk. Wave k holds every aggregate's k-th
// event of the batch, so the events of a wave belong to distinct
// aggregates and may go out in any order (a bulk publish gives none); the
// next wave waits for it, which keeps each aggregate's order. An aggregate
// whose event failed publishes nothing more in this pass.
func (r *Relay) publishWaves(ctx context.Context, bp BulkPublisher, batch []row) ([]uint64, []error) {
	var waves [][]row
	nth := map[string]int{}
	for _, x := range batch {
		k := nth[x.aggregate]
		nth[x.aggregate]++
		if k == len(waves) {
			waves = append(waves, nil)
		}
		waves[k] = append(waves[k], x)
	}
	var (
		mu      sync.Mutex
		done    []uint64
		errs    []error
		blocked = map[string]bool{}
	)
	for _, wave := range waves {
		if ctx.Err() != nil { // stopped, or the lock is gone: not one more wave
			errs = append(errs, context.Cause(ctx))
			break
		}
		byTopic := map[string][]row{}
		var topics []string
		for _, x := range wave {
			if blocked[x.aggregate] {
				continue
			}
			if _, ok := byTopic[x.topic]; !ok {
				topics = append(topics, x.topic)
			}
			byTopic[x.topic] = append(byTopic[x.topic], x)
		}
		var wg sync.WaitGroup
		for _, topic := range topics {
			rows := byTopic[topic]
			for len(rows) > 0 {
				chunk := rows[:min(len(rows), maxBulk)]
				rows = rows[len(chunk):]
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := r.publishBulk(ctx, bp, topic, chunk)
					mu.Lock()
					defer mu.Unlock()
					for i, x := range chunk {
						if ok[i] {
							r.published(x)
							done = append(done, x.seq)
						} else {
							publishErrors.WithLabelValues(x.topic).Inc()
							blocked[x.aggregate] = true
						}
					}
					if err != nil {
						errs = append(errs, err)
					}
				}()
			}
		}
		wg.Wait()
	}
	return done, errs
}

// publishBulk publishes rows of one topic in one call and reports which
// went out.
func (r *Relay) publishBulk(ctx context.Context, bp BulkPublisher, topic string, rows []row) ([]bool, error) {
	ok := make([]bool, len(rows))
	bodies := make([][]byte, len(rows))
	for i, x := range rows {
		b, err := r.envelope(x)
		if err != nil {
			return ok, err
		}
		bodies[i] = b
	}
	failed, err := bp.PublishBulk(ctx, topic, bodies)
	if err != nil && len(failed) == 0 {
		return ok, fmt.Errorf("publish %d events to %s: %w", len(rows), topic, err)
	}
	for i := range ok {
		ok[i] = true
	}
	for _, i := range failed {
		if i >= 0 && i < len(ok) {
			ok[i] = false
		}
	}
	if len(failed) > 0 {
		return ok, fmt.Errorf("publish to %s: %d of %d events failed: %w", topic, len(failed), len(rows), err)
	}
	return ok, nil
}

func (r *Relay) published(x row) {
	publishedTotal.WithLabelValues(x.topic).Inc()
	lagSeconds.Observe(time.Since(x.created).Seconds())
}

func (r *Relay) envelope(x row) ([]byte, error) {
	env := Envelope{
		SpecVersion: "1.0", ID: x.id, Source: r.opt.Source, Type: x.typ, Subject: x.aggregate,
		Time: x.created, DataContentType: "application/json", Data: json.RawMessage(x.payload),
	}
	return json.Marshal(env)
}

func (r *Relay) publish(ctx context.Context, x row) error {
	body, err := r.envelope(x)
	if err != nil {
		return err
	}
	return r.pub.Publish(ctx, x.topic, body)
}

func (r *Relay) remove(ctx context.Context, seqs []uint64) error {
	for len(seqs) > 0 {
		n := min(len(seqs), 1000)
		part := seqs[:n]
		seqs = seqs[n:]
		args := make([]any, len(part))
		for i, s := range part {
			args[i] = s
		}
		q := `DELETE FROM outbox WHERE seq IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		// Use a fresh context: a stop mid-pass must still forget what the broker has.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_, err := r.db.ExecContext(dctx, q, args...)
		cancel()
		if err != nil {
			return fmt.Errorf("delete published outbox rows: %w", err)
		}
	}
	return nil
}
