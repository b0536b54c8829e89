// Package gatewayconfig reads the gateway's configuration from the
// environment and refuses, in production, what only development may use:
// the public development JWT secret, a secret too short for HS256, and the
// development token issuer by default. It lives outside package main so the
// Kubernetes manifests' test (deploy/k8s) can run the gateway's own reader
// against the environment its Deployment gives it.
package gatewayconfig

import (
	"fmt"
	"strings"

	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/devauth"
	"github.com/harvest/harvest/graph/auth"
)

// Config is the gateway's configuration beyond config.Base.
type Config struct {
	Base config.Base
	// JWTSecret verifies bearer tokens (HARVEST_JWT_SECRET); never logged.
	JWTSecret string
	// JWT is what a token must carry beyond its signature: issuer
	// (HARVEST_JWT_ISSUER, required in production, devauth.Issuer in
	// development), audience (HARVEST_JWT_AUDIENCE, default
	// "harvest-gateway") and longest lifetime exp - iat
	// (HARVEST_JWT_MAX_LIFETIME, default 24h).
	JWT auth.Policy
	// FeedPubSub is the pub/sub component the subscription hub reads
	// (HARVEST_GATEWAY_PUBSUB, default HARVEST_PUBSUB). With more than one
	// gateway replica use a broadcast component such as gateway-broadcast
	// (components/local/gateway-broadcast.yaml), so every replica sees
	// every order event.
	FeedPubSub string
	// WSOrigins are extra browser origins allowed to open WebSockets
	// (HARVEST_GATEWAY_WS_ORIGINS, comma-separated host patterns).
	WSOrigins []string
}

// Read reads the gateway's configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "gateway", false)}
	c.JWTSecret = r.Required("HARVEST_JWT_SECRET")
	issuer := devauth.Issuer
	if !c.Base.Development() {
		issuer = r.Required("HARVEST_JWT_ISSUER")
	}
	c.JWT = auth.Policy{
		Issuer:      r.String("HARVEST_JWT_ISSUER", issuer),
		Audience:    r.String("HARVEST_JWT_AUDIENCE", devauth.Audience),
		MaxLifetime: r.Duration("HARVEST_JWT_MAX_LIFETIME", devauth.MaxLifetime),
	}
	c.FeedPubSub = r.String("HARVEST_GATEWAY_PUBSUB", c.Base.PubSub)
	for _, o := range strings.Split(r.String("HARVEST_GATEWAY_WS_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.WSOrigins = append(c.WSOrigins, o)
		}
	}
	if err := r.Err(); err != nil {
		return c, err
	}
	if c.JWT.MaxLifetime <= 0 {
		return c, fmt.Errorf("HARVEST_JWT_MAX_LIFETIME=%s is not positive", c.JWT.MaxLifetime)
	}
	if !c.Base.Development() {
		switch {
		case c.JWTSecret == devauth.DevSecret:
			return c, fmt.Errorf("HARVEST_JWT_SECRET is the public development secret, refused with HARVEST_ENV=%s", c.Base.Env)
		case len(c.JWTSecret) < devauth.MinSecretBytes:
			return c, fmt.Errorf("HARVEST_JWT_SECRET has %d bytes, production needs at least %d", len(c.JWTSecret), devauth.MinSecretBytes)
		}
	}
	return c, nil
}
