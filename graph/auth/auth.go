// Package auth verifies the gateway's bearer tokens (HS256 JWTs) and carries
// the caller's identity through the request context.
//
// apps/platform/devauth (Mint/Parse, claims sub + role) did not exist when
// the gateway was written, so the verification lives here with the same
// claim names: sub, role, exp, and iss "harvest-dev". When devauth lands,
// Verifier can delegate to it without changing any caller.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim every accepted token carries.
const Issuer = "harvest-dev"

// Roles a token may carry; they match the schema's Role enum.
const (
	RoleCustomer          = "CUSTOMER"
	RoleCSAgent           = "CS_AGENT"
	RoleCSSupervisor      = "CS_SUPERVISOR"
	RoleWarehouseOperator = "WAREHOUSE_OPERATOR"
	RoleMarketing         = "MARKETING"
	RoleAdmin             = "ADMIN"
)

var knownRoles = map[string]bool{
	RoleCustomer: true, RoleCSAgent: true, RoleCSSupervisor: true,
	RoleWarehouseOperator: true, RoleMarketing: true, RoleAdmin: true,
}

// ErrInvalidToken is returned for any token that must not be trusted; the
// cause is wrapped for logs but never shown to the caller.
var ErrInvalidToken = errors.New("invalid token")

// Identity is who a verified token says the caller is.
type Identity struct {
	Subject   string // the customer or staff id
	Role      string
	ExpiresAt time.Time // zero for identities not made from a token
}

// Claims is the token's body.
type Claims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Verifier checks tokens signed with one shared secret.
type Verifier struct {
	secret []byte
	now    func() time.Time
}

// NewVerifier returns a Verifier for secret (HARVEST_JWT_SECRET).
func NewVerifier(secret []byte) (*Verifier, error) {
	if len(secret) == 0 {
		return nil, errors.New("jwt secret is empty")
	}
	return &Verifier{secret: secret, now: time.Now}, nil
}

// Verify parses and checks a raw token: HS256 only (no "none", no RSA key
// confusion), issuer harvest-dev, expiry required, a subject and a known role.
func (v *Verifier) Verify(raw string) (Identity, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return v.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(v.now),
	)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return Identity{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	if !knownRoles[c.Role] {
		return Identity{}, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, c.Role)
	}
	return Identity{Subject: c.Subject, Role: c.Role, ExpiresAt: c.ExpiresAt.Time}, nil
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

// Mint signs a token for id valid for ttl. Tests and development tools use
// it; production tokens come from the identity provider with the same claims.
func Mint(secret []byte, id Identity, ttl time.Duration) (string, error) {
	now := time.Now()
	c := Claims{
		Role: id.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   id.Subject,
			Issuer:    Issuer,
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
