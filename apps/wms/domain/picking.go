package domain

import (
	"errors"
	"fmt"
	"sort"
)

// MaxCart is how many work orders a pick cart holds (DOMAIN 7.1 step 4).
const MaxCart = 20

// Picking's sentinel errors.
var (
	// ErrKeyReused: an idempotency key came again with other content.
	ErrKeyReused = errors.New("idempotency key already used with other content")
	// ErrState: the document is not in a state that allows the operation.
	ErrState = errors.New("not allowed in this state")
	// ErrTaskTaken: another picker holds the task.
	ErrTaskTaken = errors.New("task is held by another picker")
	// ErrWrongWarehouse: the document belongs to another warehouse.
	ErrWrongWarehouse = errors.New("belongs to another warehouse")
)

// ScanError is a refused RF scan: what was expected, what was scanned.
type ScanError struct {
	Code     string // WRONG_BIN, WRONG_ITEM, QTY_ABOVE_REMAINING, TASK_COMPLETE
	Expected string
	Got      string
}

func (e *ScanError) Error() string {
	switch e.Code {
	case ScanWrongBin:
		return fmt.Sprintf("wrong bin: go to %s, scanned %s", e.Expected, e.Got)
	case ScanWrongItem:
		return fmt.Sprintf("wrong item: bin holds %s for this step, scanned %s", e.Expected, e.Got)
	case ScanTooMany:
		return fmt.Sprintf("quantity above what the step needs: %s left, scanned %s", e.Expected, e.Got)
	}
	return "task has no step left to pick"
}

// Scan refusal codes.
const (
	ScanWrongBin  = "WRONG_BIN"
	ScanWrongItem = "WRONG_ITEM"
	ScanTooMany   = "QTY_ABOVE_REMAINING"
	ScanTaskDone  = "TASK_COMPLETE"
)

// PickListStatus is where a pick list stands.
type PickListStatus string

// Pick list statuses.
const (
	PLPicking PickListStatus = "PICKING"
	PLPicked  PickListStatus = "PICKED"
	PLPacked  PickListStatus = "PACKED"
)

// TaskStatus is where an RF task stands.
type TaskStatus string

// Task statuses.
const (
	TaskOpen    TaskStatus = "OPEN"
	TaskClaimed TaskStatus = "CLAIMED"
	TaskDone    TaskStatus = "DONE"
)

// PickList groups the work orders of one courier on a cart.
type PickList struct {
	ID        string
	Warehouse string
	Carrier   string
	Status    PickListStatus
	Key       string
	WorkOrder []string // in slot order: slot i+1
	Tasks     []Task
}

// Task is an RF pick task: the steps of one temperature zone of a pick
// list, in walking order.
type Task struct {
	ID         string
	PickListID string
	Warehouse  string
	Zone       TempZone
	Status     TaskStatus
	Picker     string
	Steps      []Step
}

// Step is one bin visit of a task.
type Step struct {
	StepNo      int
	WorkOrderID string
	PickNo      int
	Slot        int
	InvID       int64
	Bin         string
	SKU         string
	Batch       string
	Qty         int64
	Picked      int64
}

// Next is the step the picker is guided to: the first not fully picked.
func (t Task) Next() (Step, bool) {
	for _, s := range t.Steps {
		if s.Picked < s.Qty {
			return s, true
		}
	}
	return Step{}, false
}

// Scan checks an RF scan against the step the task is at: the bin, then
// the item, then the quantity (1..what the step still needs).
func (t Task) Scan(bin, sku string, qty int64) (Step, error) {
	s, ok := t.Next()
	if !ok {
		return Step{}, &ScanError{Code: ScanTaskDone}
	}
	switch {
	case bin != s.Bin:
		return Step{}, &ScanError{Code: ScanWrongBin, Expected: s.Bin, Got: bin}
	case sku != s.SKU:
		return Step{}, &ScanError{Code: ScanWrongItem, Expected: s.SKU, Got: sku}
	case qty <= 0:
		return Step{}, fmt.Errorf("%w: qty must be positive", ErrValidation)
	case qty > s.Qty-s.Picked:
		return Step{}, &ScanError{Code: ScanTooMany, Expected: fmt.Sprint(s.Qty - s.Picked), Got: fmt.Sprint(qty)}
	}
	return s, nil
}

// PlanPickList checks the work orders for a pick list and plans its
// tasks: 1..MaxCart distinct work orders, all ALLOCATED, of warehouse and
// of one courier; slot i+1 is the i-th work order; one task per
// temperature zone, its steps sorted by bin, then SKU, then slot (the
// walking order). picks holds each work order's allocation.
func PlanPickList(warehouse string, wos []WorkOrder, picks map[string][]Pick, newID func() string) (PickList, error) {
	if len(wos) == 0 || len(wos) > MaxCart {
		return PickList{}, fmt.Errorf("%w: a pick list takes 1..%d work orders, got %d", ErrValidation, MaxCart, len(wos))
	}
	seen := map[string]bool{}
	pl := PickList{ID: newID(), Warehouse: warehouse, Carrier: wos[0].Carrier, Status: PLPicking}
	byZone := map[TempZone][]Step{}
	for i, w := range wos {
		switch {
		case seen[w.ID]:
			return PickList{}, fmt.Errorf("%w: work order %s is listed twice", ErrValidation, w.ID)
		case w.Warehouse != warehouse:
			return PickList{}, fmt.Errorf("%w: work order %s", ErrWrongWarehouse, w.ID)
		case w.Status != WOAllocated:
			return PickList{}, fmt.Errorf("%w: work order %s is %s, not ALLOCATED", ErrState, w.ID, w.Status)
		case w.Carrier != pl.Carrier:
			return PickList{}, fmt.Errorf("%w: work order %s goes with %q, the list with %q: one courier per pick list",
				ErrValidation, w.ID, w.Carrier, pl.Carrier)
		}
		seen[w.ID] = true
		pl.WorkOrder = append(pl.WorkOrder, w.ID)
		for _, p := range picks[w.ID] {
			byZone[w.Zone] = append(byZone[w.Zone], Step{WorkOrderID: w.ID, PickNo: p.PickNo, Slot: i + 1, InvID: p.InvID,
				Bin: p.Bin, SKU: p.SKU, Batch: p.Batch, Qty: p.Qty})
		}
	}
	for _, z := range Zones {
		steps, ok := byZone[z]
		if !ok {
			continue
		}
		sort.SliceStable(steps, func(i, j int) bool {
			a, b := steps[i], steps[j]
			if a.Bin != b.Bin {
				return a.Bin < b.Bin
			}
			if a.SKU != b.SKU {
				return a.SKU < b.SKU
			}
			return a.Slot < b.Slot
		})
		for i := range steps {
			steps[i].StepNo = i + 1
		}
		pl.Tasks = append(pl.Tasks, Task{ID: newID(), PickListID: pl.ID, Warehouse: warehouse, Zone: z, Status: TaskOpen, Steps: steps})
	}
	return pl, nil
}

// ScanResult is what an RF scan did: the task after it, the step picked,
// whether it finished the pick list, whether it repeated an earlier scan.
type ScanResult struct {
	Task       Task
	StepNo     int
	ListPicked bool
	Duplicate  bool
}
