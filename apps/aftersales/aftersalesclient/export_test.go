package aftersalesclient

// SkipMirrorWait makes f's Add answer without waiting for the mirrors, so
// the tests can show their checks catch it.
func SkipMirrorWait(f *CancelFilter) { f.skipMirrorWait = true }

// SkipYoungRegistryWait makes f's Add answer without waiting until a
// (re)created registry is a lease old.
func SkipYoungRegistryWait(f *CancelFilter) { f.skipYoungWait = true }

// PauseMirror holds m before its next renewal (a stalled gateway) until
// resume is called.
func PauseMirror(m *Mirror) (resume func()) {
	gate := make(chan struct{})
	m.paused.Store(&gate)
	return func() {
		m.paused.Store(nil)
		close(gate)
	}
}
