package stages

import (
	"context"
	"sync"

	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// initialStage is the initial stage.
func initialStage(p *Ports) Stage {
	return Stage{Name: "initial", Kind: runner.IO, Partner: true, Units: runner.Roots, Run: p.initial}
}

// initialTemplates are stage 1's SMS and push templates for an order of
// source: ORDER_PAID and PAYMENT_SUCCEEDED for what the customer just
// paid; a pull-back's order (paid long before, through the order it
// replaces) tells the customer it replaces that order (PULL_BACK_CREATED);
// a reissue or exchange, for which nobody paid, gets none here: stage 14
// announces it (REISSUE_CREATED, EXCHANGE_CREATED) once it is split.
func initialTemplates(src domain.Source) (sms, push string) {
	switch src {
	case domain.SourceReissue, domain.SourceExchange:
		return "", ""
	case domain.SourcePullBack:
		return "PULL_BACK_CREATED", "PULL_BACK_CREATED"
	}
	return "ORDER_PAID", "PAYMENT_SUCCEEDED"
}

// Stage 1: the order's SMS and the official-account and mini-program
// pushes (initialTemplates), sent at once: three independent messages,
// each idempotent.
func (p *Ports) initial(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	smsTpl, pushTpl := initialTemplates(d.Source)
	if smsTpl == "" {
		return Next("no payment message: stage 14 announces a " + string(d.Source) + " order")
	}
	if d.Receipts == nil {
		d.Receipts = map[string]string{}
	}
	params := map[string]string{"order_id": d.OrderID, "total": fen(d.Header.Total)}
	if d.OriginalOrder != "" {
		params["original_order"] = d.OriginalOrder
	}
	type msg struct {
		id, what string
		send     func() (partnersclient.Receipt, error)
	}
	smsID := d.OrderID + ":initial:sms"
	msgs := []msg{{smsID, "order SMS", func() (partnersclient.Receipt, error) {
		return p.Partners.SendSMS(ctx, partnersclient.SMS{MessageID: smsID, Phone: d.Address.Phone, Template: smsTpl, Params: params})
	}}}
	for _, ch := range []string{partnersclient.PushOfficialAccount, partnersclient.PushMiniProgram} {
		id := d.OrderID + ":initial:push:" + ch
		msgs = append(msgs, msg{id, "push " + ch, func() (partnersclient.Receipt, error) {
			return p.Partners.SendPush(ctx, partnersclient.Push{MessageID: id, CustomerID: d.CustomerID, Channel: ch,
				Template: pushTpl, Params: params})
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
	return Next(smsTpl + " SMS and pushes sent")
}
