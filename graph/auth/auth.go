// Package auth verifies the gateway's bearer tokens (HS256 JWTs) and carries
// the caller's identity through the request context.
//
// The token format (claims sub, role, iat, exp, aud, iss) and its
// verification belong to apps/platform/devauth, shared with the token
// command of the local stack; this package adapts it to the gateway, which
// takes the issuer, audience and longest lifetime from its configuration
// (HARVEST_JWT_ISSUER, HARVEST_JWT_AUDIENCE, HARVEST_JWT_MAX_LIFETIME).
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/harvest/harvest/apps/platform/devauth"
)

// Issuer is the iss claim of development tokens (devauth.Mint's).
const Issuer = devauth.Issuer

// Audience is the aud claim the gateway accepts unless configured otherwise.
const Audience = devauth.Audience

// Policy is what a token must satisfy beyond its signature.
type Policy = devauth.Policy

// DefaultPolicy accepts the tokens devauth.Mint signs.
func DefaultPolicy() Policy { return devauth.DefaultPolicy() }

// Roles a token may carry; they match the schema's Role enum.
const (
	RoleCustomer          = devauth.RoleCustomer
	RoleCSAgent           = devauth.RoleCSAgent
	RoleCSSupervisor      = devauth.RoleCSSupervisor
	RoleWarehouseOperator = devauth.RoleWarehouseOperator
	RoleMarketing         = devauth.RoleMarketing
	RoleCatalogManager    = devauth.RoleCatalogManager
	RoleSales             = devauth.RoleSales
	RoleAdmin             = devauth.RoleAdmin
)

// ErrInvalidToken is returned for any token that must not be trusted; the
// cause is wrapped for logs but never shown to the caller.
var ErrInvalidToken = devauth.ErrInvalidToken

// Identity is who a verified token says the caller is.
type Identity struct {
	Subject   string // the customer or staff id
	Role      string
	Warehouse string    // a warehouse operator's warehouse (the token's warehouse claim)
	ExpiresAt time.Time // zero for identities not made from a token
}

// Claims is the token's body.
type Claims = devauth.Claims

// Verifier checks tokens signed with one shared secret.
type Verifier struct {
	secret []byte
	policy Policy
	now    func() time.Time

	// verified remembers the tokens already verified, until they expire: a
	// customer's app sends the same token with every request, and checking
	// its signature and claims again was a tenth of the gateway's work per
	// order placed. Only valid tokens are remembered.
	mu       sync.Mutex
	verified map[string]Identity
}

// maxVerified bounds the remembered tokens; past it the memory starts over.
const maxVerified = 100_000

// NewVerifier returns a Verifier for secret (HARVEST_JWT_SECRET) demanding
// p; the zero Policy means DefaultPolicy (the development tokens').
func NewVerifier(secret []byte, p Policy) (*Verifier, error) {
	if p == (Policy{}) {
		p = DefaultPolicy()
	}
	switch {
	case len(secret) == 0:
		return nil, errors.New("jwt secret is empty")
	case p.Issuer == "" || p.Audience == "":
		return nil, errors.New("jwt issuer and audience are required")
	case p.MaxLifetime <= 0:
		return nil, fmt.Errorf("jwt max lifetime %s is not positive", p.MaxLifetime)
	}
	return &Verifier{secret: secret, policy: p, now: time.Now}, nil
}

// Verify parses and checks a raw token: HS256 only (no "none", no RSA key
// confusion), the policy's issuer and audience, iat and exp required and at
// most the policy's lifetime apart, a subject and a known role.
func (v *Verifier) Verify(raw string) (Identity, error) {
	now := v.now()
	v.mu.Lock()
	id, ok := v.verified[raw]
	v.mu.Unlock()
	if ok && now.Before(id.ExpiresAt) {
		return id, nil
	}
	c, err := devauth.ParseAt(string(v.secret), raw, v.policy, v.now)
	if err != nil {
		return Identity{}, err
	}
	id = Identity{Subject: c.Subject, Role: c.Role, Warehouse: c.Warehouse, ExpiresAt: c.ExpiresAt.Time}
	v.mu.Lock()
	if v.verified == nil || len(v.verified) >= maxVerified {
		v.verified = map[string]Identity{}
	}
	v.verified[raw] = id
	v.mu.Unlock()
	return id, nil
}

// FromAuthorization verifies an Authorization header value. An empty value
// is no identity and no error (anonymous); anything else must be a valid
// "Bearer <token>".
func (v *Verifier) FromAuthorization(h string) (Identity, bool, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return Identity{}, false, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return Identity{}, false, fmt.Errorf("%w: not a bearer token", ErrInvalidToken)
	}
	id, err := v.Verify(strings.TrimSpace(tok))
	if err != nil {
		return Identity{}, false, err
	}
	return id, true, nil
}

// Mint signs a token for id valid for ttl, checking nothing, so tests can
// forge the bad tokens Verify must refuse (expired, unknown role, no
// subject); devauth.Mint is the checked one for real use.
func Mint(secret []byte, id Identity, ttl time.Duration) (string, error) {
	now := time.Now()
	c := Claims{
		Role:      id.Role,
		Warehouse: id.Warehouse,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   id.Subject,
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the caller's identity, if the request had one.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
