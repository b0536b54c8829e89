package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"

	pc "github.com/harvest/harvest/apps/partners/partnersclient"
)

// TMS, the transport management system (stage 11). It picks the courier
// for a delivery order: express orders go with the express carrier (SF by
// default); others with the carrier contracted for their warehouse
// (Config.Carriers), or, for a warehouse without a contract, one of the
// standard carriers chosen by a hash of the warehouse, so a warehouse
// always ships with the same one. The waybill number is the carrier's
// prefix and the partner's sequence, unique over all carriers and
// restarts; a delivery order asked for again gets its first waybill.

// StandardCarriers serve warehouses without a contracted carrier.
var StandardCarriers = []string{"ZTO", "YTO", "STO", "JD"}

// waybillPrefixes are the carriers' waybill number prefixes.
var waybillPrefixes = map[string]string{"SF": "SF", "ZTO": "ZT", "YTO": "YT", "STO": "ST", "JD": "JDV", "EMS": "EM"}

// Carrier is the courier TMS assigns to w.
func (s *Server) Carrier(w pc.WaybillRequest) string {
	if w.Express {
		return s.cfg.ExpressCarrier
	}
	if c := s.cfg.Carriers[w.Warehouse]; c != "" {
		return c
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(w.Warehouse))
	return StandardCarriers[h.Sum32()%uint32(len(StandardCarriers))]
}

func waybillNo(carrier string, seq int64) string {
	p, ok := waybillPrefixes[carrier]
	if !ok {
		p = carrier
	}
	return fmt.Sprintf("%s%012d", p, seq)
}

func (s *Server) tmsWaybill() http.HandlerFunc {
	return serve(s, APIWaybill, func(w *pc.WaybillRequest) error {
		return firstErr(idField("delivery_order_id", w.DeliveryOrderID), idField("warehouse", w.Warehouse),
			required("address", w.Address), contactPhone("phone", w.Phone), date("delivery_date", w.DeliveryDate))
	}, func(w *pc.WaybillRequest) (string, string) { return w.DeliveryOrderID, w.DeliveryOrderID },
		func(_ context.Context, w *pc.WaybillRequest, seq int64) (pc.Waybill, error) {
			c := s.Carrier(*w)
			return pc.Waybill{Carrier: c, WaybillNo: waybillNo(c, seq)}, nil
		}, func(w *pc.Waybill) { w.Duplicate = true })
}
