package main

import (
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/devauth"
)

// production is the environment of a production gateway but for the JWT.
func production(extra map[string]string) map[string]string {
	m := map[string]string{"HARVEST_JWT_ISSUER": "https://id.harvest.example"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Production (the default) refuses the public development secret and any
// secret shorter than 32 bytes; development takes them.
func TestProductionRefusesWeakJWTSecrets(t *testing.T) {
	t.Parallel()
	strong := "k8s-secret-0123456789abcdef0123456789" // 36 bytes
	cases := []struct {
		name   string
		env    map[string]string
		refuse bool
	}{
		{"dev secret, env unset", production(map[string]string{"HARVEST_JWT_SECRET": devauth.DevSecret}), true},
		{"dev secret, production", production(map[string]string{"HARVEST_ENV": "production", "HARVEST_JWT_SECRET": devauth.DevSecret}), true},
		{"20-byte secret", production(map[string]string{"HARVEST_JWT_SECRET": "01234567890123456789"}), true},
		{"1-byte secret", production(map[string]string{"HARVEST_JWT_SECRET": "x"}), true},
		{"31-byte secret", production(map[string]string{"HARVEST_JWT_SECRET": strings.Repeat("a", 31)}), true},
		{"no secret", production(nil), true},
		{"no issuer", map[string]string{"HARVEST_JWT_SECRET": strong}, true},
		{"zero lifetime", production(map[string]string{"HARVEST_JWT_SECRET": strong, "HARVEST_JWT_MAX_LIFETIME": "0s"}), true},
		{"32-byte secret", production(map[string]string{"HARVEST_JWT_SECRET": strings.Repeat("a", 32)}), false},
		{"strong secret", production(map[string]string{"HARVEST_JWT_SECRET": strong}), false},
		{"dev secret, development", map[string]string{"HARVEST_ENV": "development", "HARVEST_JWT_SECRET": devauth.DevSecret}, false},
		{"short secret, development", map[string]string{"HARVEST_ENV": "development", "HARVEST_JWT_SECRET": "s3cret"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := readConfig(config.FromMap(tc.env))
			// Other variables (the sidecar's tokens) may be refused too;
			// the JWT must be among the reasons.
			if tc.refuse && (err == nil || !strings.Contains(err.Error(), "HARVEST_JWT_")) {
				t.Fatalf("err = %v, want a refusal naming the variable", err)
			}
			if !tc.refuse && err != nil && strings.Contains(err.Error(), "HARVEST_JWT_") {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestJWTPolicyFromConfig(t *testing.T) {
	t.Parallel()
	c, err := readConfig(config.FromMap(map[string]string{"HARVEST_ENV": "development", "HARVEST_JWT_SECRET": devauth.DevSecret,
		"APP_API_TOKEN": "t"})) // the sidecar's token, which the contract requires
	if err != nil {
		t.Fatal(err)
	}
	if c.JWT != devauth.DefaultPolicy() {
		t.Errorf("development policy = %+v, want what devauth.Mint signs (%+v)", c.JWT, devauth.DefaultPolicy())
	}
	c, _ = readConfig(config.FromMap(production(map[string]string{
		"HARVEST_JWT_SECRET":       strings.Repeat("s", 40),
		"HARVEST_JWT_AUDIENCE":     "harvest-app",
		"HARVEST_JWT_MAX_LIFETIME": "2h",
	})))
	if c.JWT.Issuer != "https://id.harvest.example" || c.JWT.Audience != "harvest-app" || c.JWT.MaxLifetime != 2*time.Hour {
		t.Errorf("policy = %+v", c.JWT)
	}
	if c.Base.Development() {
		t.Error("gateway without HARVEST_ENV runs in development")
	}
}
