package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// deliver sends due callbacks through partners' sidecar, like a channel's
// notification service: a fault may drop them (status DROPPED, PAY must
// find the result by polling) or lose some (retried); a delivered callback
// is sent a second time at DuplicateRate; failures back off 1 s, 2 s, 4 s …
// up to a minute, MaxAttempts times, then the channel gives up.
func (s *Server) deliver(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, channel, ref_no, out_trade_no, target, attempts FROM notifications
		WHERE status='PENDING' AND next_at <= ? ORDER BY next_at LIMIT 50`, s.now())
	if err != nil {
		return err
	}
	type note struct {
		id, kind, channel, ref, trade, target string
		attempts                              int
	}
	var due []note
	for rows.Next() {
		var n note
		if err := rows.Scan(&n.id, &n.kind, &n.channel, &n.ref, &n.trade, &n.target, &n.attempts); err != nil {
			rows.Close()
			return err
		}
		due = append(due, n)
	}
	rows.Close()
	for _, n := range due {
		f, err := s.faultFor(ctx, "callbacks."+n.channel)
		if err != nil {
			return err
		}
		if f.DropCallbacks {
			if _, err := s.db.ExecContext(ctx, `UPDATE notifications SET status='DROPPED' WHERE id=?`, n.id); err != nil {
				return err
			}
			continue
		}
		sleepCtx(ctx, time.Duration(f.DelayMs)*time.Millisecond)
		err = nil
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
			if _, err := s.db.ExecContext(ctx, `UPDATE notifications SET status=?, attempts=attempts+1, next_at=?, last_error=? WHERE id=?`,
				status, s.now().Add(retryAfter(n.attempts)), msg, n.id); err != nil {
				return err
			}
			continue
		}
		deliveries := 1
		if s.cfg.DuplicateRate > 0 && s.rand() < s.cfg.DuplicateRate {
			if s.send(ctx, n.id, n.kind, n.channel, n.ref, n.trade, n.target) == nil {
				deliveries++
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE notifications SET status='DELIVERED', attempts=attempts+1, deliveries=deliveries+? WHERE id=?`,
			deliveries, n.id); err != nil {
			return err
		}
	}
	return nil
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
