package channel

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// appsInvoker remembers which app id each call addressed.
type appsInvoker struct {
	mu   sync.Mutex
	apps []string
}

func (a *appsInvoker) Invoke(_ context.Context, app, _, _ string, _, _ any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.apps = append(a.apps, app)
	return errors.New("not a channel")
}

// Each channel reaches its own endpoint (production: one HTTPEndpoint per
// channel), and both fall back to App.
func TestChannelsReachTheirOwnEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg                 Config
		wantWechat, wantAli string
	}{
		{Config{App: "partners"}, "partners", "partners"},
		{Config{WechatApp: "wechatpay", AlipayApp: "alipay"}, "wechatpay", "alipay"},
		{Config{App: "gw", AlipayApp: "alipay"}, "gw", "alipay"},
	} {
		for ch, want := range map[string]string{"WECHAT": tc.wantWechat, "ALIPAY": tc.wantAli} {
			inv := &appsInvoker{}
			_, _ = NewSet(inv, tc.cfg)[ch].Query(context.Background(), "T1")
			if len(inv.apps) == 0 || inv.apps[0] != want {
				t.Errorf("%+v: %s invoked %v, want %s", tc.cfg, ch, inv.apps, want)
			}
		}
	}
}
