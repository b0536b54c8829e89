package group

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A group that fails is written again item by item with the same
// function, so only the item that spoilt it fails, with its own error.
func TestAllOrEachSplitsAFailedGroup(t *testing.T) {
	bad := errors.New("item 2 is bad")
	var calls [][]int
	write := func(g []int) error {
		calls = append(calls, append([]int(nil), g...))
		for _, x := range g {
			if x == 2 {
				return bad
			}
		}
		return nil
	}
	got := map[int]error{}
	AllOrEach([]int{1, 2, 3}, write, func(i int, err error) { got[i+1] = err })
	if fmt.Sprint(calls) != "[[1 2 3] [1] [2] [3]]" {
		t.Fatalf("writes %v, want the group then each alone", calls)
	}
	if got[1] != nil || !errors.Is(got[2], bad) || got[3] != nil {
		t.Fatalf("answers %v", got)
	}
	// a lone item is a group of one: written once, its error its own
	calls = nil
	AllOrEach([]int{2}, write, func(_ int, err error) { got[0] = err })
	if len(calls) != 1 || !errors.Is(got[0], bad) {
		t.Fatalf("lone item: writes %v, answer %v", calls, got[0])
	}
}

type note struct {
	n   int
	out int // the write's answer
}

func TestWriterAnswersEachItemInGroups(t *testing.T) {
	var writes, grouped atomic.Int64
	w := NewWriter(Options{MaxSize: 16}, func(_ context.Context, g []*note) error {
		writes.Add(1)
		if len(g) > 1 {
			grouped.Add(1)
		}
		time.Sleep(time.Millisecond)
		for _, x := range g {
			if x.n%10 == 7 {
				return fmt.Errorf("%d ends in 7", x.n)
			}
		}
		for _, x := range g {
			x.out = 2 * x.n
		}
		return nil
	})
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a write outlives its caller's context
			x := &note{n: i}
			err := w.Write(ctx, x)
			switch {
			case i%10 == 7:
				if err == nil || err.Error() != fmt.Sprintf("%d ends in 7", i) {
					t.Errorf("item %d: %v, want its own error", i, err)
				}
			case err != nil || x.out != 2*i:
				t.Errorf("item %d: %v, %d", i, err, x.out)
			}
		}()
	}
	wg.Wait()
	if grouped.Load() == 0 {
		t.Fatalf("%d writes, none grouped", writes.Load())
	}
}

// A busy queue's groups linger for more items; a lone item on an idle
// queue does not (fulfillment's starts and capacity takes, and its
// committers through Gather, gather this way).
func TestQueueLingersOnlyWhenBusy(t *testing.T) {
	q := NewQueue[*testItem](Options{MaxSize: 64, InFlight: 1, Linger: 50 * time.Millisecond})
	var mu sync.Mutex
	var sizes []int
	firstAt := make(chan time.Time, 1)
	handle := func(g []*testItem) {
		mu.Lock()
		sizes = append(sizes, len(g))
		mu.Unlock()
		if g[0].n == 0 {
			firstAt <- time.Now()
			time.Sleep(20 * time.Millisecond) // items queue meanwhile
		}
		for _, x := range g {
			close(x.done)
		}
	}
	start := time.Now()
	first := &testItem{n: 0, done: make(chan struct{})}
	go q.Submit(first, handle)
	if d := (<-firstAt).Sub(start); d > 40*time.Millisecond {
		t.Fatalf("a lone item waited %v", d)
	}
	var rest []*testItem
	for i := 1; i <= 3; i++ { // queued while the first is handled
		x := &testItem{n: i, done: make(chan struct{})}
		rest = append(rest, x)
		q.Submit(x, handle)
	}
	go func() { // arrives during the busy group's linger
		time.Sleep(30 * time.Millisecond)
		x := &testItem{n: 4, done: make(chan struct{})}
		q.Submit(x, handle)
	}()
	for _, x := range rest {
		<-x.done
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(sizes) != "[1 4]" {
		t.Fatalf("group sizes %v, want [1 4]: the busy group should have lingered for the late item", sizes)
	}
}

// LingerAlways makes even a lone item wait for company (throughput work);
// a full group goes at once.
func TestQueueLingerAlways(t *testing.T) {
	q := NewQueue[*testItem](Options{MaxSize: 3, InFlight: 1, Linger: time.Second, LingerAlways: true, Detach: true})
	var sizes []int
	var mu sync.Mutex
	handle := func(g []*testItem) {
		mu.Lock()
		sizes = append(sizes, len(g))
		mu.Unlock()
		for _, x := range g {
			close(x.done)
		}
	}
	start := time.Now()
	var xs []*testItem
	for i := range 3 {
		x := &testItem{n: i, done: make(chan struct{})}
		xs = append(xs, x)
		q.Submit(x, handle) // detached: returns at once
		time.Sleep(5 * time.Millisecond)
	}
	for _, x := range xs {
		<-x.done
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("a full group waited %v for its linger", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(sizes) != "[3]" {
		t.Fatalf("group sizes %v, want one lingering group of 3", sizes)
	}
}

// A group whose handler panics gives its slot up: the queue keeps going.
func TestQueueSurvivesAPanickingGroup(t *testing.T) {
	q := NewQueue[*testItem](Options{MaxSize: 1, InFlight: 1})
	handle := func(g []*testItem) {
		if g[0].n == 0 {
			panic("boom")
		}
		close(g[0].done)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the leader")
			}
		}()
		q.Submit(&testItem{n: 0, done: make(chan struct{})}, handle)
	}()
	x := &testItem{n: 1, done: make(chan struct{})}
	q.Submit(x, handle)
	select {
	case <-x.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the queue stalled after a panic")
	}
}
