// Package mirrortest starts a gateway's copy of the cancel filter for
// tests and benchmarks, and waits until it holds its first snapshot.
package mirrortest

import (
	"context"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/aftersalesclient"
)

// Started runs a mirror of f until the test ends and returns it once its
// copy is loaded (within 10 s, or the test fails).
func Started(tb testing.TB, ctx context.Context, f *aftersalesclient.CancelFilter) *aftersalesclient.Mirror {
	tb.Helper()
	m := aftersalesclient.NewMirror(f, nil)
	tb.Cleanup(m.Start(ctx))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.AwaitCopy(wctx); err != nil {
		tb.Fatal(err)
	}
	return m
}
