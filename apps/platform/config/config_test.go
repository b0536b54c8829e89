package config

import (
	"strings"
	"testing"
)

// An app started without HARVEST_ENV runs in production: development
// (playground, pprof, seed data, development secrets) must be asked for.
func TestEnvDefaultsToProduction(t *testing.T) {
	t.Parallel()
	r := FromMap(withTokens(map[string]string{"HARVEST_MYSQL_DSN": "oms:pw@tcp(db:3306)/oms"}))
	b := ReadBase(r, "oms", true)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if b.Env != Production || b.Development() {
		t.Fatalf("Env = %q, Development() = %v; want production", b.Env, b.Development())
	}
	r = FromMap(withTokens(map[string]string{"HARVEST_ENV": "development"}))
	if b := ReadBase(r, "oms", true); !b.Development() || r.Err() != nil {
		t.Fatalf("HARVEST_ENV=development: Env = %q, err %v", b.Env, r.Err())
	}
}

func TestUnknownEnvIsRefused(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"prod", "dev", "Development", "staging", "test"} {
		r := FromMap(withTokens(map[string]string{"HARVEST_ENV": v}))
		b := ReadBase(r, "oms", true)
		err := r.Err()
		if err == nil || !strings.Contains(err.Error(), "HARVEST_ENV") {
			t.Errorf("HARVEST_ENV=%q: err = %v, want one naming HARVEST_ENV", v, err)
		}
		if b.Development() {
			t.Errorf("HARVEST_ENV=%q fell back to development", v)
		}
	}
}

func TestSeedIsOffByDefaultAndRefusedOutsideDevelopment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		want    bool
		wantErr bool
	}{
		{"production, unset", map[string]string{}, false, false},
		{"development, unset", map[string]string{"HARVEST_ENV": "development"}, false, false},
		{"development, asked", map[string]string{"HARVEST_ENV": "development", "HARVEST_SEED": "true"}, true, false},
		{"production, asked", map[string]string{"HARVEST_SEED": "true"}, false, true},
		{"explicit production, asked", map[string]string{"HARVEST_ENV": "production", "HARVEST_SEED": "1"}, false, true},
		{"production, off", map[string]string{"HARVEST_SEED": "false"}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := FromMap(withTokens(tc.env))
			got := r.Seed(ReadBase(r, "pay", false))
			if err := r.Err(); (err != nil) != tc.wantErr || (err != nil && !strings.Contains(err.Error(), "HARVEST_SEED")) {
				t.Fatalf("err = %v, want error %v naming HARVEST_SEED", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("Seed = %v, want %v", got, tc.want)
			}
		})
	}
}

// Production has no database default: the development one is root without
// a password on localhost.
func TestProductionRequiresTheDSN(t *testing.T) {
	t.Parallel()
	r := FromMap(withTokens(map[string]string{}))
	ReadBase(r, "pay", true)
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "HARVEST_MYSQL_DSN") {
		t.Fatalf("err = %v, want HARVEST_MYSQL_DSN required", err)
	}
	r = FromMap(withTokens(map[string]string{"HARVEST_ENV": "development"}))
	if b := ReadBase(r, "pay", true); r.Err() != nil || !strings.HasPrefix(b.MySQLDSN, "root@tcp(127.0.0.1:3306)/harvest_pay") {
		t.Fatalf("development DSN %q, err %v", b.MySQLDSN, r.Err())
	}
}

// withTokens adds the sidecar tokens every app needs (APP_API_TOKEN,
// DAPR_API_TOKEN), so a case fails only for what it spoils.
func withTokens(m map[string]string) map[string]string {
	out := map[string]string{
		"APP_API_TOKEN":  "app-api-token-0123456789abcdef0123456789",
		"DAPR_API_TOKEN": "dapr-api-token-0123456789abcdef0123456789",
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}
