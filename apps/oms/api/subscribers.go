package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/dapr/go-sdk/service/common"

	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	payevents "github.com/harvest/harvest/apps/pay/events"
	"github.com/harvest/harvest/apps/platform/daprx"
	wmsevents "github.com/harvest/harvest/apps/wms/events"
)

// Subscribe registers OMS's topic subscribers: pay.trade.succeeded marks
// orders paid (or asks for a refund); wms.parcel.tracked moves an order
// along its delivery leg, as WMS answers when asked.
func Subscribe(svc common.Service, pubsub string, uc *app.Service) error {
	if err := daprx.Subscribe(svc, pubsub, wmsevents.TopicParcelTracked, func(ctx context.Context, m daprx.Message) error {
		var p wmsevents.Parcel
		if err := json.Unmarshal(m.Data, &p); err != nil || p.OrderID == "" {
			return fmt.Errorf("%w: decode parcel: %v", daprx.ErrDrop, err)
		}
		_, err := uc.TrackDelivery(ctx, p.OrderID)
		if errors.Is(err, domain.ErrNotFound) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	}); err != nil {
		return err
	}
	if err := daprx.Subscribe(svc, pubsub, wmsevents.TopicShortageReported, func(ctx context.Context, m daprx.Message) error {
		var ev wmsevents.ShortageReported
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.OrderID == "" {
			return fmt.Errorf("%w: decode shortage: %v", daprx.ErrDrop, err)
		}
		err := uc.RecordShortage(ctx, m.ID, ev.OrderID, shortageNote(ev))
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrBadTransition) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	}); err != nil {
		return err
	}
	return daprx.Subscribe(svc, pubsub, payevents.TopicTradeSucceeded, func(ctx context.Context, m daprx.Message) error {
		var t payevents.TradeSucceeded
		if err := json.Unmarshal(m.Data, &t); err != nil {
			return fmt.Errorf("%w: decode trade: %v", daprx.ErrDrop, err)
		}
		if t.OrderID == "" || t.TradeID == "" || t.AmountFen <= 0 {
			return fmt.Errorf("%w: trade %q for order %q is incomplete", daprx.ErrDrop, t.TradeID, t.OrderID)
		}
		_, err := uc.ApplyTrade(ctx, m.ID, t)
		if errors.Is(err, app.ErrUnverifiedTrade) {
			return fmt.Errorf("%w: %v", daprx.ErrDrop, err)
		}
		return err
	})
}

// shortageNote is the timeline's reading of a confirmed shortage.
func shortageNote(ev wmsevents.ShortageReported) string {
	parts := make([]string, len(ev.Lines))
	for i, l := range ev.Lines {
		parts[i] = fmt.Sprintf("%s: %d ordered, %d short (%s), %d ship, %d back on the shelf", l.SKU, l.Ordered, l.Short, l.Reason, l.Ship, l.Withheld)
	}
	return "work order " + ev.WorkOrderID + " " + ev.Status + ": " + strings.Join(parts, "; ")
}

// SweepBinding handles the cron input binding that runs the expiry sweep.
// A pass still running when the next tick comes makes that tick skip:
// passes would only compete for the same rows.
func SweepBinding(svc common.Service, name string, uc *app.Service, log *slog.Logger) error {
	var running sync.Mutex
	return svc.AddBindingInvocationHandler("/"+name, func(ctx context.Context, _ *common.BindingEvent) ([]byte, error) {
		if !running.TryLock() {
			return nil, nil
		}
		defer running.Unlock()
		n, err := uc.SweepExpired(ctx)
		if n > 0 {
			log.InfoContext(ctx, "expiry sweep cancelled unpaid orders", "count", n)
		}
		if err != nil {
			log.WarnContext(ctx, "expiry sweep incomplete; the next tick retries", "err", err)
		}
		return nil, nil
	})
}
