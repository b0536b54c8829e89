package main

import (
	"testing"

	"github.com/harvest/harvest/apps/platform/config"
)

func TestReadConfig(t *testing.T) {
	t.Parallel()
	if _, err := readConfig(config.FromMap(map[string]string{})); err == nil {
		t.Fatal("missing HARVEST_JWT_SECRET accepted")
	}
	c, err := readConfig(config.FromMap(map[string]string{
		"HARVEST_ENV":                "development", // production refuses a short token and secret
		"APP_API_TOKEN":              "t",
		"HARVEST_JWT_SECRET":         "s3cret",
		"HARVEST_PUBSUB":             "pubsub",
		"HARVEST_GATEWAY_WS_ORIGINS": "app.harvest.test, *.harvest.test",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Base.AppID != "gateway" || c.Base.MySQLDSN != "" {
		t.Errorf("base = %+v, want app gateway without a database", c.Base)
	}
	if c.FeedPubSub != "pubsub" || len(c.WSOrigins) != 2 || c.WSOrigins[1] != "*.harvest.test" {
		t.Errorf("config = %+v", c)
	}
}
