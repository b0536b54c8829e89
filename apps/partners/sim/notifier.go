package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Callbacks are sent like a real channel's notification service sends
// them: many at once (it serves every merchant), but one at a time for
// any one trade, oldest first, so a trade's refund callback never
// overtakes its payment callback.
const (
	// deliverBatch bounds the due callbacks taken in one pass.
	deliverBatch = 200
	// deliverParallel bounds the trades whose callbacks are in flight at
	// once. One at a time held a checkout load run to about 15 paid
	// orders a second, the stand-in's limit rather than Harvest's.
	deliverParallel = 32
)

type note struct {
	id, kind, channel, ref, trade, target string
	attempts                              int
}

// deliver sends due callbacks through partners' sidecar, like a channel's
// notification service: a fault may drop them (status DROPPED, PAY must
// find the result by polling) or lose some (retried); a delivered callback
// is sent a second time at DuplicateRate; failures back off 1 s, 2 s, 4 s …
// up to a minute, MaxAttempts times, then the channel gives up.
func (s *Server) deliver(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, channel, ref_no, out_trade_no, target, attempts FROM notifications
		WHERE status='PENDING' AND next_at <= ? ORDER BY next_at LIMIT ?`, s.now(), deliverBatch)
	if err != nil {
		return err
	}
	var (
		byTrade = map[string][]note{}
		order   []string // trades in the order of their oldest due callback
	)
	for rows.Next() {
		var n note
		if err := rows.Scan(&n.id, &n.kind, &n.channel, &n.ref, &n.trade, &n.target, &n.attempts); err != nil {
			rows.Close()
			return err
		}
		key := n.channel + "/" + n.trade
		if _, ok := byTrade[key]; !ok {
			order = append(order, key)
		}
		byTrade[key] = append(byTrade[key], n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		slots = make(chan struct{}, deliverParallel)
	)
	for _, key := range order {
		notes := byTrade[key]
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			for _, n := range notes {
				if err := s.deliverOne(ctx, n); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return // the trade's later callbacks wait for the next pass
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deliverOne sends one callback and records the outcome. It fails only
// when the outcome cannot be recorded; a failed send is a retry later.
func (s *Server) deliverOne(ctx context.Context, n note) error {
	f, err := s.faultFor(ctx, "callbacks."+n.channel)
	if err != nil {
		return err
	}
	if f.DropCallbacks {
		_, err := s.db.ExecContext(ctx, `UPDATE notifications SET status='DROPPED' WHERE id=?`, n.id)
		return err
	}
	sleepCtx(ctx, time.Duration(f.DelayMs)*time.Millisecond)
	if f.FailRate > 0 && s.rand() < f.FailRate {
		err = fmt.Errorf("injected fault callbacks.%s", n.channel)
	} else {
		err = s.send(ctx, n.id, n.kind, n.channel, n.ref, n.trade, n.target)
	}
	if err != nil {
		status := "PENDING"
		if n.attempts+1 >= s.cfg.MaxAttempts {
			status = "GAVE_UP"
		}
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err := s.db.ExecContext(ctx, `UPDATE notifications SET status=?, attempts=attempts+1, next_at=?, last_error=? WHERE id=?`,
			status, s.now().Add(retryAfter(n.attempts)), msg, n.id)
		return err
	}
	deliveries := 1
	if s.cfg.DuplicateRate > 0 && s.rand() < s.cfg.DuplicateRate {
		if s.send(ctx, n.id, n.kind, n.channel, n.ref, n.trade, n.target) == nil {
			deliveries++
		}
	}
	_, err = s.db.ExecContext(ctx, `UPDATE notifications SET status='DELIVERED', attempts=attempts+1, deliveries=deliveries+? WHERE id=?`,
		deliveries, n.id)
	return err
}

func retryAfter(attempts int) time.Duration {
	d := time.Second
	for i := 0; i < attempts && d < time.Minute; i++ {
		d *= 2
	}
	if d > time.Minute {
		d = time.Minute
	}
	return d
}

// send builds a freshly signed body and invokes the target ("app/method").
func (s *Server) send(ctx context.Context, id, kind, channel, ref, trade, target string) error {
	body, err := s.callbackBody(ctx, id, kind, channel, ref, trade)
	if err != nil {
		return err
	}
	app, method, ok := strings.Cut(target, "/")
	if !ok {
		return fmt.Errorf("notify target %q is not app/method", target)
	}
	return s.inv.Invoke(ctx, app, http.MethodPost, method, json.RawMessage(body), nil)
}

func (s *Server) callbackBody(ctx context.Context, id, kind, channel, ref, trade string) ([]byte, error) {
	switch {
	case kind == kindAudit:
		a, err := s.GetAudit(ctx, ref)
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"refund_id": a.RefundID, "result": a.Status})
	case channel == "WECHAT":
		return s.wechatCallback(ctx, id, kind, ref, trade)
	case channel == "ALIPAY":
		return s.alipayCallback(ctx, id, kind, ref, trade)
	}
	return nil, fmt.Errorf("no callback shape for %s/%s", kind, channel)
}

// PaymentCallback returns a freshly signed payment callback for a trade,
// exactly as the notifier would send it (tests redeliver it at will).
func (s *Server) PaymentCallback(ctx context.Context, channel, outTradeNo string) ([]byte, error) {
	return s.callbackBody(ctx, "manual-"+outTradeNo, kindPayment, channel, outTradeNo, outTradeNo)
}

// RefundCallback returns a freshly signed refund callback.
func (s *Server) RefundCallback(ctx context.Context, channel, outRefundNo string) ([]byte, error) {
	return s.callbackBody(ctx, "manual-"+outRefundNo, kindRefund, channel, outRefundNo, "")
}
