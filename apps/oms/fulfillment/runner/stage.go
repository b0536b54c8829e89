package runner

import (
	"context"
	"fmt"
	"time"
)

// Kind says what bounds a stage: waiting on a partner, or the CPU.
type Kind string

// Stage kinds; they pick the default concurrency.
const (
	IO  Kind = "IO"
	CPU Kind = "CPU"
)

// Units says which units a stage applies to.
type Units int

// The two generations of units.
const (
	Roots    Units = iota + 1 // the unit a key starts with (an order)
	Children                  // the units a root splits into (its delivery orders)
)

// Func runs a stage on a unit the caller holds under lease. It may change
// u.Doc (saved with the outcome's commit) and returns what it decided.
type Func[D any] func(ctx context.Context, u *Unit[D]) Outcome

// Stage is one step of a pipeline, declared once.
type Stage[D any] struct {
	// Name identifies the stage in storage, metrics and configuration;
	// it must never change once units were stored at it.
	Name string
	// Kind is what bounds the stage; Concurrency, when set, sizes its
	// workers like that kind instead.
	Kind, Concurrency Kind
	// Partner marks a stage that reaches another system: it gets a
	// circuit breaker and, unless it is effect-free, a unit carried into
	// it has its lease checked before it runs (see carry).
	Partner bool
	// EffectFree marks a stage whose passing (a Next outcome) need not be
	// committed on its own because a re-run repeats nothing: the unit goes
	// straight to its next stage and the pass's timeline row rides on the
	// unit's next commit.
	EffectFree bool
	// Units are the units the stage applies to; When, if set, narrows
	// them (a stage with nothing to do for a unit is skipped).
	Units Units
	When  func(u *Unit[D]) bool
	// Run is the stage's function.
	Run Func[D]
}

func (s *Stage[D]) applies(u *Unit[D]) bool {
	if (s.Units == Children) != u.IsChild() {
		return false
	}
	return s.When == nil || s.When(u)
}

func (s *Stage[D]) sizedAs() Kind {
	if s.Concurrency != "" {
		return s.Concurrency
	}
	return s.Kind
}

func validate[D any](stages []Stage[D]) error {
	seen := map[string]bool{}
	for i, s := range stages {
		switch {
		case s.Name == "":
			return fmt.Errorf("stage %d has no name", i+1)
		case seen[s.Name]:
			return fmt.Errorf("stage %q is declared twice", s.Name)
		case s.Run == nil:
			return fmt.Errorf("stage %q has no function", s.Name)
		case s.Units != Roots && s.Units != Children:
			return fmt.Errorf("stage %q applies to no units", s.Name)
		case s.Kind != IO && s.Kind != CPU:
			return fmt.Errorf("stage %q has no kind", s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// OutcomeKind is what a stage run decided.
type OutcomeKind string

// Outcome kinds.
const (
	OutcomeNext   OutcomeKind = "NEXT"
	OutcomePause  OutcomeKind = "PAUSE"
	OutcomeRetry  OutcomeKind = "RETRY"
	OutcomeFail   OutcomeKind = "FAIL"
	OutcomeCancel OutcomeKind = "CANCEL"
)

// Outcome is a stage run's result.
type Outcome struct {
	Kind  OutcomeKind
	Until time.Time     // Pause: resume at
	After time.Duration // Retry: not before now+After
	Code  string        // Fail/Cancel/Retry: a short reason code
	Note  string        // for the timeline
	// Effects are committed with the outcome, in its transaction, by
	// Hooks.Apply (cancel the order, ...).
	Effects []any
	// Passing marks a Retry caused by a partner fault: it counts against
	// the stage's circuit breaker.
	Passing bool
}

// Next moves on.
func Next(note string) Outcome { return Outcome{Kind: OutcomeNext, Note: note} }

// Pause waits until t.
func Pause(t time.Time, code, note string) Outcome {
	return Outcome{Kind: OutcomePause, Until: t, Code: code, Note: note}
}

// Fail sends the unit to the exception queue.
func Fail(code, note string) Outcome { return Outcome{Kind: OutcomeFail, Code: code, Note: note} }

// Retry runs the stage again after d.
func Retry(d time.Duration, code, note string) Outcome {
	return Outcome{Kind: OutcomeRetry, After: d, Code: code, Note: note}
}

// Cancel stops the unit for good, committing effects with it.
func Cancel(code, note string, effects ...any) Outcome {
	return Outcome{Kind: OutcomeCancel, Code: code, Note: note, Effects: effects}
}

// State is where a unit stands.
type State string

// Unit states.
const (
	StateReady     State = "READY"     // due at resume_at, waiting to be claimed
	StateRunning   State = "RUNNING"   // leased by an instance: queued or running there
	StatePaused    State = "PAUSED"    // waiting for resume_at
	StateFailed    State = "FAILED"    // in the exception queue, waiting for an operator
	StateSplit     State = "SPLIT"     // a root, handed over to its children
	StateDone      State = "DONE"      // past its last stage
	StateCancelled State = "CANCELLED" // stopped by a stage
	StateHeld      State = "HELD"      // its key was held (Hold) until Release
)

// Unit is a unit in memory: a copy of its row, held under a lease.
type Unit[D any] struct {
	ID       string
	Key      string // the root's id, shared by its children
	ParentID string // "" for a root
	Seq      int    // a child's number
	Attempts int
	Token    string
	// LeaseUntil is when the lease runs out.
	LeaseUntil time.Time
	Doc        D
	stage      int // index in the pipeline
	// carried are the timeline rows of effect-free stages the unit passed
	// since its last commit; the next commit writes them.
	carried []step
	// fence is the lease check of a unit carried into a stage with
	// outside effects, awaited before that stage runs (see carry).
	fence *fenceReq
}

// IsChild reports whether the unit is a child.
func (u *Unit[D]) IsChild() bool { return u.ParentID != "" }

// Child is one child a root splits into.
type Child[D any] struct {
	Seq  int
	Doc  D
	Note string // its first timeline row
}
