package config

import (
	"strings"
	"testing"
)

// TestReadBaseTokens: APP_API_TOKEN is required in every mode; production
// also refuses a short one and a missing DAPR_API_TOKEN; no message shows
// a token's value.
func TestReadBaseTokens(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", MinAppTokenBytes)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string // "" for none
	}{
		{"development without app token", map[string]string{"HARVEST_ENV": "development"}, "APP_API_TOKEN is required"},
		{"development short tokens", map[string]string{"HARVEST_ENV": "development", "APP_API_TOKEN": "short-secret"}, ""},
		{"production without app token", map[string]string{"HARVEST_ENV": "production", "DAPR_API_TOKEN": long}, "APP_API_TOKEN is required"},
		{"production short app token", map[string]string{"HARVEST_ENV": "production", "APP_API_TOKEN": "short-secret", "DAPR_API_TOKEN": long}, "production needs at least 32"},
		{"production without dapr token", map[string]string{"HARVEST_ENV": "production", "APP_API_TOKEN": long}, "DAPR_API_TOKEN is required"},
		{"production with both", map[string]string{"HARVEST_ENV": "production", "APP_API_TOKEN": long, "DAPR_API_TOKEN": long}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := FromMap(tc.env)
			b := ReadBase(r, "pay", false)
			err := r.Err()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "short-secret") {
				t.Fatalf("error shows the token: %v", err)
			}
			if tc.wantErr == "" && (b.AppToken != tc.env["APP_API_TOKEN"] || b.DaprToken != tc.env["DAPR_API_TOKEN"]) {
				t.Fatalf("tokens not read: %+v", b)
			}
		})
	}
}

func TestReadBaseOpsAddr(t *testing.T) {
	t.Parallel()
	b := ReadBase(FromMap(map[string]string{"APP_API_TOKEN": "t", "HARVEST_OPS_ADDR": "0.0.0.0:9090"}), "oms", false)
	if b.OpsAddr != "0.0.0.0:9090" {
		t.Fatalf("OpsAddr = %q", b.OpsAddr)
	}
	if d := ReadBase(FromMap(map[string]string{"APP_API_TOKEN": "t"}), "oms", false); d.OpsAddr == "" || d.OpsAddr == d.HTTPAddr {
		t.Fatalf("default OpsAddr %q must differ from HTTPAddr %q", d.OpsAddr, d.HTTPAddr)
	}
}
