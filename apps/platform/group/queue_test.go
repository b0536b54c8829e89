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

type testItem struct {
	n    int
	done chan struct{}
}

func TestQueueHandlesEachItemOnceInBoundedGroups(t *testing.T) {
	q := NewQueue[*testItem](Options{MaxSize: 8, InFlight: 2})
	var (
		handled, groups, running, mostRunning atomic.Int64
		mu                                    sync.Mutex
		seen                                  = map[int]int{}
	)
	handle := func(g []*testItem) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := mostRunning.Load()
			if n <= m || mostRunning.CompareAndSwap(m, n) {
				break
			}
		}
		if len(g) > 8 {
			t.Errorf("group of %d", len(g))
		}
		groups.Add(1)
		time.Sleep(time.Millisecond)
		mu.Lock()
		for _, x := range g {
			seen[x.n]++
		}
		mu.Unlock()
		handled.Add(int64(len(g)))
		for _, x := range g {
			close(x.done)
		}
	}
	var wg sync.WaitGroup
	const n = 500
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := &testItem{n: i, done: make(chan struct{})}
			q.Submit(x, handle)
			select {
			case <-x.done:
			case <-time.After(10 * time.Second):
				t.Errorf("item %d never handled", i)
			}
		}()
	}
	wg.Wait()
	if handled.Load() != n || len(seen) != n {
		t.Fatalf("handled %d items, %d distinct; want %d", handled.Load(), len(seen), n)
	}
	for _, c := range seen {
		if c != 1 {
			t.Fatal("an item was handled twice")
		}
	}
	if mostRunning.Load() > 2 {
		t.Fatalf("%d groups handled at once, want at most 2", mostRunning.Load())
	}
	if groups.Load() >= n {
		t.Fatalf("%d groups for %d items: nothing was grouped", groups.Load(), n)
	}
}

// A leader returns once its own item is handled, however long the queue
// stays busy behind it: the rest is led on by a goroutine of its own.
func TestQueueLeaderReturnsWhenItsItemIsDone(t *testing.T) {
	q := NewQueue[*testItem](Options{MaxSize: 1, InFlight: 1})
	started := make(chan struct{})
	goOn := make(chan struct{})   // lets the leader's own group finish
	others := make(chan struct{}) // lets the other groups finish
	var handled atomic.Int64
	handle := func(g []*testItem) {
		for _, x := range g {
			if x.n == 0 {
				close(started)
				<-goOn
			} else {
				<-others
			}
			handled.Add(1)
			close(x.done)
		}
	}
	leaderDone := make(chan struct{})
	go func() {
		q.Submit(&testItem{n: 0, done: make(chan struct{})}, handle)
		close(leaderDone)
	}()
	<-started
	var rest []*testItem
	for i := 1; i <= 3; i++ {
		x := &testItem{n: i, done: make(chan struct{})}
		rest = append(rest, x)
		q.Submit(x, handle) // the only slot is taken: queued, returns at once
	}
	close(goOn)
	select {
	case <-leaderDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the leader kept leading after its own item was handled")
	}
	if handled.Load() != 1 {
		t.Fatalf("%d handled when the leader returned, want only its own", handled.Load())
	}
	close(others)
	for _, x := range rest {
		select {
		case <-x.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("item %d never handled", x.n)
		}
	}
}

func TestQueueLoneCallerIsHandledAtOnce(t *testing.T) {
	q := NewQueue[int](Options{MaxSize: 8, InFlight: 1})
	var got []int
	q.Submit(7, func(g []int) { got = append(got, g...) })
	if fmt.Sprint(got) != "[7]" {
		t.Fatalf("handled %v, want [7] before Submit returned", got)
	}
}

func TestLoaderAnswersEachCallItsOwnKeys(t *testing.T) {
	var fetches atomic.Int64
	l := NewLoader(Options{MaxSize: 16, InFlight: 1}, func(_ context.Context, keys []int) (map[int]string, error) {
		fetches.Add(1)
		time.Sleep(time.Millisecond)
		out := map[int]string{}
		for _, k := range keys {
			if k%3 != 0 { // multiples of 3 do not exist
				out[k] = fmt.Sprint("v", k)
			}
		}
		return out, nil
	})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := l.Load(context.Background(), i, i+1)
			if err != nil {
				t.Error(err)
				return
			}
			want := map[int]string{}
			for _, k := range []int{i, i + 1} {
				if k%3 != 0 {
					want[k] = fmt.Sprint("v", k)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Load(%d,%d) = %v, want %v", i, i+1, got, want)
			}
		}()
	}
	wg.Wait()
	if fetches.Load() >= 200 {
		t.Fatalf("%d fetches for 200 calls: nothing was grouped", fetches.Load())
	}
}

func TestLoaderFailureReachesEveryCallOfTheGroup(t *testing.T) {
	boom := errors.New("database down")
	l := NewLoader(Options{MaxSize: 16, InFlight: 1}, func(context.Context, []string) (map[string]int, error) { return nil, boom })
	if _, err := l.Load(context.Background(), "a"); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Load(ctx, "a"); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
}
