package group

import (
	"testing"
	"time"
)

func TestGather(t *testing.T) {
	// what is queued at once, up to max
	ch := make(chan int, 10)
	for i := 2; i <= 5; i++ {
		ch <- i
	}
	if b, open := Gather(ch, 1, 3, 0, 1); len(b) != 3 || !open || b[0] != 1 || b[2] != 3 {
		t.Fatalf("no linger: %v %v", b, open)
	}
	// a lone item does not linger when lingerFrom is 2
	empty := make(chan int)
	start := time.Now()
	if b, _ := Gather(empty, 1, 10, time.Second, 2); len(b) != 1 || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("a lone item waited %s: %v", time.Since(start), b)
	}
	// lingering collects what arrives within the linger, then stops
	go func() {
		for i := 2; i <= 4; i++ {
			time.Sleep(5 * time.Millisecond)
			ch <- i
		}
	}()
	<-ch // drain the 4 and 5 left from above
	<-ch
	start = time.Now()
	b, open := Gather(ch, 1, 10, 100*time.Millisecond, 1)
	if len(b) != 4 || !open || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("linger: %v in %s", b, time.Since(start))
	}
	// a closed channel ends the batch
	close(ch)
	if b, open := Gather(ch, 1, 10, time.Second, 1); len(b) != 1 || open {
		t.Fatalf("closed: %v %v", b, open)
	}
}
