package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/inventory/domain"
)

// Slots is the delivery-slot and served-area side of the store.
type Slots interface {
	SlotCapacities(ctx context.Context, warehouses []string, from, to string) ([]domain.Capacity, error)
	SetSlotCapacity(ctx context.Context, k domain.SlotKey, limited bool, capacity int64, by string, check func(taken int64) error) (domain.Capacity, error)
	Warehouses(ctx context.Context) ([]string, error)
	ServedAreas(ctx context.Context, province, city string) ([]domain.ServedArea, error)
	ServingWarehouses(ctx context.Context, a domain.AreaRef) (ws []string, restricted bool, err error)
	SetServedArea(ctx context.Context, a domain.ServedArea, by string) (domain.ServedArea, error)
}

// SetCapacity is an operator's change of one slot's capacity.
type SetCapacity struct {
	Warehouse, Day, Type string
	// Capacity nil lifts the limit (the slot is counted, not limited).
	Capacity *int64
	By       string // who, for the audit
}

// SetSlotCapacity sets a slot's capacity ahead of time. It is refused,
// with nothing changed, for an unknown warehouse, a day past or too far
// ahead, a negative capacity, or one below the units orders already hold
// (domain.CapacityBelowTakenError, judged under the slot's row lock, so a
// placement racing the change cannot slip between).
func (s *Service) SetSlotCapacity(ctx context.Context, c SetCapacity) (domain.Capacity, error) {
	k, err := domain.NewSlotKey(c.Warehouse, c.Day, c.Type)
	if err != nil {
		return domain.Capacity{}, err
	}
	if strings.TrimSpace(c.By) == "" {
		return domain.Capacity{}, &domain.ValidationError{Field: "by", Msg: "who changes the capacity is required"}
	}
	if err := s.knownWarehouses(ctx, "warehouse", []string{k.Warehouse}); err != nil {
		return domain.Capacity{}, err
	}
	now := s.clock.Now()
	if err := domain.CheckCapacityChange(k, 0, 0, now); err != nil { // the day, before any lock
		return domain.Capacity{}, err
	}
	var capacity int64
	if c.Capacity != nil {
		capacity = *c.Capacity
		if capacity < 0 {
			return domain.Capacity{}, &domain.ValidationError{Field: "capacity", Msg: "must not be negative"}
		}
	}
	return s.slots.SetSlotCapacity(ctx, k, c.Capacity != nil, capacity, c.By, func(taken int64) error {
		return domain.CheckCapacityChange(k, capacity, taken, now)
	})
}

func (s *Service) knownWarehouses(ctx context.Context, field string, ws []string) error {
	known, err := s.slots.Warehouses(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if !slices.Contains(known, w) {
			return &domain.ValidationError{Field: field, Msg: fmt.Sprintf("%q is not a warehouse of the catalog (%s)", w, strings.Join(known, ", "))}
		}
	}
	return nil
}

// SlotQuery selects slots: warehouses (all when empty) for days days from
// From (default today).
type SlotQuery struct {
	Warehouses []string
	From       string
	Days       int
}

// SlotCapacities lists every slot of the range that the slot types offer
// (express from today, next-day from tomorrow), with its capacity and use;
// a slot nobody set or took is listed unlimited with nothing taken.
func (s *Service) SlotCapacities(ctx context.Context, q SlotQuery) ([]domain.Capacity, error) {
	today := domain.Today(s.clock.Now())
	from := today
	if q.From != "" {
		d, err := domain.ParseDay("from", q.From)
		if err != nil {
			return nil, err
		}
		from = d
	}
	switch {
	case q.Days == 0:
		q.Days = 7
	case q.Days < 0 || q.Days > domain.MaxSlotDays:
		return nil, &domain.ValidationError{Field: "days", Msg: fmt.Sprintf("must be 1..%d", domain.MaxSlotDays)}
	}
	ws := q.Warehouses
	if len(ws) == 0 {
		var err error
		if ws, err = s.slots.Warehouses(ctx); err != nil {
			return nil, err
		}
	} else if err := s.knownWarehouses(ctx, "warehouses", ws); err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, nil
	}
	to := from.AddDate(0, 0, q.Days-1)
	rows, err := s.slots.SlotCapacities(ctx, ws, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	have := make(map[domain.SlotKey]domain.Capacity, len(rows))
	for _, r := range rows {
		have[r.Key] = r
	}
	var out []domain.Capacity
	slices.Sort(ws)
	for _, w := range ws {
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			for _, t := range domain.SlotTypes {
				if !t.OffersOn(d, today) {
					continue
				}
				k := domain.SlotKey{Warehouse: w, Day: d.Format(time.DateOnly), Type: t}
				c, ok := have[k]
				if !ok {
					c = domain.Capacity{Key: k}
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// OpenSlots lists the slots still open for a delivery address: those of
// the warehouses serving its area (served areas; every warehouse while
// no area is drawn) that take one more order. An address outside every
// served area gets domain.ErrNotServed.
func (s *Service) OpenSlots(ctx context.Context, a domain.AreaRef, days int) ([]domain.Capacity, error) {
	a, err := domain.NewAreaRef(a.Province, a.City, a.District)
	if err != nil {
		return nil, err
	}
	ws, _, err := s.slots.ServingWarehouses(ctx, a)
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, &domain.NotServedError{Area: a}
	}
	all, err := s.SlotCapacities(ctx, SlotQuery{Warehouses: ws, Days: days})
	if err != nil {
		return nil, err
	}
	open := all[:0]
	for _, c := range all {
		if c.Open() {
			open = append(open, c)
		}
	}
	return open, nil
}
