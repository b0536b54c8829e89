package sim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
)

// The receipt-style outside APIs: SMS, push, finance payment vouchers,
// presale purchasing, invoicing and drop-ship suppliers. Each answers a
// partnersclient.Receipt whose ID is the partner's own number for the
// document (an SMS gateway's BizId, an invoice's number …), the same on
// every repeat.

const maxIDLen = 128

// idField checks a caller's idempotency id or another required reference.
func idField(field, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return rejected(field, "%s is required", field)
	case len(v) > maxIDLen:
		return rejected(field, "%s is longer than %d characters", field, maxIDLen)
	}
	return nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return rejected(field, "%s is required", field)
	}
	return nil
}

// phoneDigits strips the +86 prefix, spaces and dashes; ok is false when
// anything else is left.
func phoneDigits(s string) (digits string, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+86")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	return b.String(), true
}

// mobile accepts what an SMS gateway can deliver to: a mainland mobile
// number, 1 and ten digits.
func mobile(field, s string) error {
	d, ok := phoneDigits(s)
	if !ok || len(d) != 11 || d[0] != '1' {
		return rejected(field, "%s %q is not an 11-digit mainland mobile number", field, s)
	}
	return nil
}

// contactPhone accepts what a courier can call: a mobile or a landline
// with its area code (7 to 15 digits).
func contactPhone(field, s string) error {
	d, ok := phoneDigits(s)
	if !ok || len(d) < 7 || len(d) > 15 {
		return rejected(field, "%s %q is not a phone number", field, s)
	}
	return nil
}

// templateCode accepts an approved-template code such as ORDER_PAID.
func templateCode(field, s string) error {
	if s == "" || len(s) > 64 {
		return rejected(field, "%s is required (at most 64 characters)", field)
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return rejected(field, "%s %q is not a template code (A-Z, 0-9, _)", field, s)
		}
	}
	return nil
}

func date(field, s string) error {
	if s == "" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return rejected(field, "%s %q is not a date (YYYY-MM-DD)", field, s)
	}
	return nil
}

func taxRate(field string, bp int64) error {
	if bp < 0 || bp > 10_000 {
		return rejected(field, "%s %d is not a rate in basis points (0..10000)", field, bp)
	}
	return nil
}

func goodsLines(lines []pc.GoodsLine) error {
	if len(lines) == 0 {
		return rejected("lines", "lines must not be empty")
	}
	for i, l := range lines {
		if err := required(fmt.Sprintf("lines[%d].sku", i), l.SKU); err != nil {
			return err
		}
		if l.Qty <= 0 {
			return rejected(fmt.Sprintf("lines[%d].qty", i), "lines[%d].qty must be positive, got %d", i, l.Qty)
		}
	}
	return nil
}

// first error of checks, in order.
func firstErr(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// refOf names the order a message is about: its order_id or
// delivery_order_id parameter, else the part of its id before the first
// ':' (fulfillment's message ids are "<order>:<stage>:…").
func refOf(params map[string]string, messageID string) string {
	if v := params["order_id"]; v != "" {
		return v
	}
	if v := params["delivery_order_id"]; v != "" {
		return v
	}
	ref, _, _ := strings.Cut(messageID, ":")
	return ref
}

// receiptNo is a partner's document number: a prefix and the sequence.
func receiptNo(prefix string, seq int64) string { return fmt.Sprintf("%s%012d", prefix, seq) }

func markReceiptDup(r *pc.Receipt) { r.Duplicate = true }

func receiptFirst[T any](prefix string) func(context.Context, *T, int64) (pc.Receipt, error) {
	return func(_ context.Context, _ *T, seq int64) (pc.Receipt, error) {
		return pc.Receipt{ID: receiptNo(prefix, seq)}, nil
	}
}

// smsSend is the SMS gateway: one recipient per call, a mobile number and
// an approved template.
func (s *Server) smsSend() http.HandlerFunc {
	return serve(s, APISMS, func(m *pc.SMS) error {
		return firstErr(idField("message_id", m.MessageID), mobile("phone", m.Phone), templateCode("template", m.Template))
	}, func(m *pc.SMS) (string, string) { return m.MessageID, refOf(m.Params, m.MessageID) },
		receiptFirst[pc.SMS]("SM"), markReceiptDup)
}

// pushSend is the official-account and mini-program message service.
func (s *Server) pushSend() http.HandlerFunc {
	return serve(s, APIPush, func(p *pc.Push) error {
		err := firstErr(idField("message_id", p.MessageID), idField("customer_id", p.CustomerID), templateCode("template", p.Template))
		if err == nil && p.Channel != pc.PushOfficialAccount && p.Channel != pc.PushMiniProgram {
			err = rejected("channel", "channel %q is not %s or %s", p.Channel, pc.PushOfficialAccount, pc.PushMiniProgram)
		}
		return err
	}, func(p *pc.Push) (string, string) { return p.MessageID, refOf(p.Params, p.MessageID) },
		receiptFirst[pc.Push]("PU"), markReceiptDup)
}

// voucherPush is finance's payment-voucher intake (stage 6). Finance
// checks what a bookkeeper would: no negative amount, cash and non-cash
// not above the total (a ToB order settled with the partner carries
// neither), and lines that name their SKU and tax rate.
func (s *Server) voucherPush() http.HandlerFunc {
	return serve(s, APIVoucher, func(v *pc.Voucher) error {
		if err := firstErr(idField("voucher_id", v.VoucherID), idField("order_id", v.OrderID)); err != nil {
			return err
		}
		if v.CashFen < 0 || v.NonCashFen < 0 || v.TotalFen < 0 {
			return rejected("amounts", "amounts must not be negative (cash %d, non-cash %d, total %d)", v.CashFen, v.NonCashFen, v.TotalFen)
		}
		if v.CashFen+v.NonCashFen > v.TotalFen {
			return rejected("total_fen", "cash %d + non-cash %d exceed the total %d", v.CashFen, v.NonCashFen, v.TotalFen)
		}
		if len(v.Lines) == 0 {
			return rejected("lines", "lines must not be empty")
		}
		for i, l := range v.Lines {
			if err := required(fmt.Sprintf("lines[%d].sku", i), l.SKU); err != nil {
				return err
			}
			if l.AmountFen < 0 {
				return rejected(fmt.Sprintf("lines[%d].amount_fen", i), "lines[%d].amount_fen must not be negative", i)
			}
			if err := taxRate(fmt.Sprintf("lines[%d].tax_rate_bp", i), l.TaxRateBP); err != nil {
				return err
			}
		}
		return nil
	}, func(v *pc.Voucher) (string, string) { return v.VoucherID, v.OrderID },
		receiptFirst[pc.Voucher]("PZ"), markReceiptDup)
}

// presalePush is purchasing's intake of presale lines (stage 9), once per
// order id.
func (s *Server) presalePush() http.HandlerFunc {
	return serve(s, APIPresale, func(p *pc.PresaleOrder) error {
		return firstErr(idField("order_id", p.OrderID), goodsLines(p.Lines))
	}, func(p *pc.PresaleOrder) (string, string) { return p.OrderID, p.OrderID },
		receiptFirst[pc.PresaleOrder]("PS"), markReceiptDup)
}

// invoiceIssue is the invoicing system (stage 15), once per invoice id.
func (s *Server) invoiceIssue() http.HandlerFunc {
	return serve(s, APIInvoice, func(in *pc.InvoiceRequest) error {
		if err := firstErr(idField("invoice_id", in.InvoiceID), idField("order_id", in.OrderID), required("title", in.Title)); err != nil {
			return err
		}
		if len(in.Lines) == 0 {
			return rejected("lines", "lines must not be empty")
		}
		for i, l := range in.Lines {
			f := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
			if err := firstErr(required(f("sku"), l.SKU), required(f("name"), l.Name), taxRate(f("tax_rate_bp"), l.TaxRateBP)); err != nil {
				return err
			}
			if l.Qty <= 0 {
				return rejected(f("qty"), "%s must be positive, got %d", f("qty"), l.Qty)
			}
			if l.AmountFen < 0 {
				return rejected(f("amount_fen"), "%s must not be negative", f("amount_fen"))
			}
		}
		return nil
	}, func(in *pc.InvoiceRequest) (string, string) { return in.InvoiceID, in.OrderID },
		receiptFirst[pc.InvoiceRequest]("FP"), markReceiptDup)
}

// supplierOrder is a drop-ship supplier's order intake (stage 16), once per
// delivery order id; the receipt id is the supplier's order number.
func (s *Server) supplierOrder() http.HandlerFunc {
	return serve(s, APISuppliers, func(o *pc.SupplierOrder) error {
		return firstErr(idField("delivery_order_id", o.DeliveryOrderID), idField("supplier", o.Supplier), goodsLines(o.Lines),
			required("name", o.Name), contactPhone("phone", o.Phone), required("address", o.Address), date("delivery_date", o.DeliveryDate))
	}, func(o *pc.SupplierOrder) (string, string) { return o.DeliveryOrderID, o.DeliveryOrderID },
		func(ctx context.Context, o *pc.SupplierOrder, seq int64) (pc.Receipt, error) {
			if err := s.takeSupplierOrder(ctx, o); err != nil {
				return pc.Receipt{}, err
			}
			return pc.Receipt{ID: receiptNo(supplierCode(o.Supplier), seq)}, nil
		}, markReceiptDup)
}

// supplierCode is the start of a supplier's order numbers: its name's
// letters and digits, upper-cased, at most 8.
func supplierCode(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') && b.Len() < 8 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "SUP"
	}
	return b.String()
}

// tmsPickup is TMS's booking of a return pickup at the customer's door,
// once per pickup id; the receipt id is the return waybill.
func (s *Server) tmsPickup() http.HandlerFunc {
	return serve(s, APIPickup, func(p *pc.PickupRequest) error {
		return firstErr(idField("pickup_id", p.PickupID), idField("order_id", p.OrderID), goodsLines(p.Lines),
			required("name", p.Name), contactPhone("phone", p.Phone), required("address", p.Address))
	}, func(p *pc.PickupRequest) (string, string) { return p.PickupID, p.OrderID },
		receiptFirst[pc.PickupRequest]("RT"), markReceiptDup)
}

// refundVoucher is finance's intake of refund vouchers, once per voucher
// id: amounts not negative and something to book.
func (s *Server) refundVoucher() http.HandlerFunc {
	return serve(s, APIRefundVoucher, func(v *pc.RefundVoucher) error {
		if err := firstErr(idField("voucher_id", v.VoucherID), idField("order_id", v.OrderID), idField("request_id", v.RequestID),
			required("kind", v.Kind)); err != nil {
			return err
		}
		if v.CashFen < 0 || v.NonCashFen < 0 || v.CashFen+v.NonCashFen == 0 {
			return rejected("cash_fen", "amounts must not be negative and not both zero (cash %d, non-cash %d)", v.CashFen, v.NonCashFen)
		}
		return nil
	}, func(v *pc.RefundVoucher) (string, string) { return v.VoucherID, v.OrderID },
		receiptFirst[pc.RefundVoucher]("RV"), markReceiptDup)
}
