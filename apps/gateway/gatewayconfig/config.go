// Package gatewayconfig reads the part of the gateway's configuration that
// production checks before it starts: the JWT. Production refuses the
// public development secret (devauth.DevSecret) and any secret shorter than
// HS256's 32 bytes, and takes the tokens' issuer from the environment, with
// no development default. The gateway's readConfig (package main) calls
// ReadJWT beside config.ReadBase; its other settings have defaults. It lives
// outside package main so the Kubernetes manifests' test (deploy/k8s) can
// run the same checks against the environment the gateway's Deployment
// gives it.
package gatewayconfig

import (
	"fmt"

	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/devauth"
	"github.com/harvest/harvest/graph/auth"
)

// ReadJWT checks secret (HARVEST_JWT_SECRET) for b's mode and reads what a
// token must carry beyond its signature: issuer (HARVEST_JWT_ISSUER,
// required in production, devauth.Issuer in development), audience
// (HARVEST_JWT_AUDIENCE, default "harvest-gateway") and longest lifetime
// exp - iat (HARVEST_JWT_MAX_LIFETIME, default 24h). Problems are recorded
// in r, so r.Err reports them with the rest.
func ReadJWT(r *config.Reader, b config.Base, secret string) auth.Policy {
	issuer := devauth.Issuer
	if !b.Development() {
		issuer = r.Required("HARVEST_JWT_ISSUER")
	}
	p := auth.Policy{
		Issuer:      r.String("HARVEST_JWT_ISSUER", issuer),
		Audience:    r.String("HARVEST_JWT_AUDIENCE", devauth.Audience),
		MaxLifetime: r.Duration("HARVEST_JWT_MAX_LIFETIME", devauth.MaxLifetime),
	}
	if p.MaxLifetime <= 0 {
		r.Refuse(fmt.Errorf("HARVEST_JWT_MAX_LIFETIME=%s is not positive", p.MaxLifetime))
	}
	if !b.Development() && secret != "" {
		switch {
		case secret == devauth.DevSecret:
			r.Refuse(fmt.Errorf("HARVEST_JWT_SECRET is the public development secret, refused with HARVEST_ENV=%s", b.Env))
		case len(secret) < devauth.MinSecretBytes:
			r.Refuse(fmt.Errorf("HARVEST_JWT_SECRET has %d bytes, production needs at least %d", len(secret), devauth.MinSecretBytes))
		}
	}
	return p
}
