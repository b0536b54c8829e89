package stages

import (
	"context"
	"sync"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// initialStage is the initial stage.
func initialStage(p *Ports) Stage {
	return Stage{Name: "initial", Kind: runner.IO, Partner: true, Units: runner.Roots, Run: p.initial}
}

// Stage 1: SMS ORDER_PAID and the official-account and mini-program
// pushes, sent at once: three independent messages, each idempotent.
func (p *Ports) initial(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.Receipts == nil {
		d.Receipts = map[string]string{}
	}
	params := map[string]string{"order_id": d.OrderID, "total": fen(d.Header.Total)}
	type msg struct {
		id, what string
		send     func() (partnersclient.Receipt, error)
	}
	smsID := d.OrderID + ":initial:sms"
	msgs := []msg{{smsID, "order SMS", func() (partnersclient.Receipt, error) {
		return p.Partners.SendSMS(ctx, partnersclient.SMS{MessageID: smsID, Phone: d.Address.Phone, Template: "ORDER_PAID", Params: params})
	}}}
	for _, ch := range []string{partnersclient.PushOfficialAccount, partnersclient.PushMiniProgram} {
		id := d.OrderID + ":initial:push:" + ch
		msgs = append(msgs, msg{id, "push " + ch, func() (partnersclient.Receipt, error) {
			return p.Partners.SendPush(ctx, partnersclient.Push{MessageID: id, CustomerID: d.CustomerID, Channel: ch,
				Template: "PAYMENT_SUCCEEDED", Params: params})
		}})
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		fail Outcome
	)
	// Pick the messages still to send before any goes out: the senders
	// write d.Receipts while this loop would otherwise still read it.
	var todo []msg
	for _, m := range msgs {
		if _, done := d.Receipts[m.id]; !done {
			todo = append(todo, m)
		}
	}
	for _, m := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := m.send()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if fail.Kind == "" {
					fail = p.failure(u, m.what, err)
				}
				return
			}
			d.Receipts[m.id] = r.ID
		}()
	}
	wg.Wait()
	if fail.Kind != "" {
		return fail // the messages that went out are recorded; the retry sends only the rest
	}
	return Next("SMS and pushes sent")
}
