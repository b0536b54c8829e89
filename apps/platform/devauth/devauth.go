// Package devauth owns the shape of Harvest's bearer tokens and the secret
// the development stack signs them with: HS256 JWTs carrying sub, role, exp,
// iat, aud "harvest-gateway" and iss "harvest-dev". The launcher
// (deploy/local) mints them for developers and end-to-end tests; the
// gateway verifies them against a Policy (issuer, audience, longest
// lifetime). Production tokens come from an identity provider with the same
// claims, its own issuer and a real secret (HARVEST_JWT_SECRET), never
// DevSecret.
package devauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DevSecret signs the tokens of the developer stack (`make up`). It is
// public on purpose: a development token must never work anywhere else, and
// test stacks use a random secret instead.
const DevSecret = "harvest-dev-secret-do-not-use-in-production"

// Issuer is the iss claim of the tokens Mint signs (the development issuer).
const Issuer = "harvest-dev"

// Audience is the aud claim the gateway accepts by default and Mint signs.
const Audience = "harvest-gateway"

// MaxLifetime is the longest exp - iat a token may span by default: a
// stolen token is worth a day at most.
const MaxLifetime = 24 * time.Hour

// MinSecretBytes is the shortest signing secret production accepts: HS256
// keys shorter than the hash (32 bytes) are guessable offline from one token.
const MinSecretBytes = 32

// Claim names, for code that reads a token without this package.
const (
	ClaimSubject = "sub"
	ClaimRole    = "role"
	ClaimExpires = "exp"
	ClaimIssuer  = "iss"
	ClaimAud     = "aud"
	ClaimIssued  = "iat"
)

// Roles a token may carry; they match the GraphQL schema's Role enum.
const (
	RoleCustomer          = "CUSTOMER"
	RoleCSAgent           = "CS_AGENT"
	RoleCSSupervisor      = "CS_SUPERVISOR"
	RoleWarehouseOperator = "WAREHOUSE_OPERATOR"
	RoleMarketing         = "MARKETING"
	// RoleCatalogManager edits the catalog and prices (and nothing else).
	RoleCatalogManager = "CATALOG_MANAGER"
	// RoleSales enters sales plans and looks after marketplace orders.
	RoleSales = "SALES"
	RoleAdmin = "ADMIN"
)

// Roles lists every role a token may carry.
var Roles = []string{RoleCustomer, RoleCSAgent, RoleCSSupervisor, RoleWarehouseOperator, RoleMarketing, RoleCatalogManager, RoleSales, RoleAdmin}

// ErrInvalidToken is returned by Parse for any token that must not be trusted.
var ErrInvalidToken = errors.New("invalid token")

// ClaimWarehouse names the warehouse a WAREHOUSE_OPERATOR works in: the
// console acts in that warehouse only.
const ClaimWarehouse = "warehouse"

// Claims is a token's body.
type Claims struct {
	Role      string `json:"role"`
	Warehouse string `json:"warehouse,omitempty"`
	jwt.RegisteredClaims
}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Mint signs a token for subject acting as role, valid for ttl.
func Mint(secret, role, subject string, ttl time.Duration) (string, error) {
	return MintIn(secret, role, subject, "", ttl)
}

// MintIn is Mint for staff bound to a warehouse (the warehouse claim).
func MintIn(secret, role, subject, warehouse string, ttl time.Duration) (string, error) {
	switch {
	case secret == "":
		return "", errors.New("mint token: empty secret")
	case !ValidRole(role):
		return "", fmt.Errorf("mint token: unknown role %q (want one of %v)", role, Roles)
	case subject == "":
		return "", errors.New("mint token: empty subject")
	case ttl <= 0:
		return "", fmt.Errorf("mint token: ttl %s is not positive", ttl)
	case ttl > MaxLifetime:
		return "", fmt.Errorf("mint token: ttl %s is longer than the %s a token may live", ttl, MaxLifetime)
	}
	now := time.Now()
	c := Claims{
		Role:      role,
		Warehouse: warehouse,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return tok, nil
}

// Policy is what a verifier demands of a token beyond its signature.
type Policy struct {
	Issuer      string        // the iss claim required
	Audience    string        // a value the aud claim must hold
	MaxLifetime time.Duration // the longest exp - iat accepted
}

// DefaultPolicy accepts what Mint signs: issuer Issuer, audience Audience,
// lifetime up to MaxLifetime.
func DefaultPolicy() Policy {
	return Policy{Issuer: Issuer, Audience: Audience, MaxLifetime: MaxLifetime}
}

// leeway absorbs clock skew between the token's signer and its verifier.
const leeway = 30 * time.Second

// Parse verifies token against DefaultPolicy (see ParseAt).
func Parse(secret, token string) (Claims, error) {
	return ParseAt(secret, token, DefaultPolicy(), time.Now)
}

// ParseAt verifies token judging time by now: HS256 only, signed with
// secret, issuer and audience as p says, iat and exp present, not expired
// nor issued in the future (30 s leeway), exp - iat at most p.MaxLifetime,
// with a subject and a known role. Every failure wraps ErrInvalidToken.
func ParseAt(secret, token string, p Policy, now func() time.Time) (Claims, error) {
	switch {
	case secret == "":
		return Claims{}, fmt.Errorf("%w: empty secret", ErrInvalidToken)
	case p.Issuer == "" || p.Audience == "" || p.MaxLifetime <= 0:
		return Claims{}, fmt.Errorf("%w: incomplete policy %+v", ErrInvalidToken, p)
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(p.Issuer),
		jwt.WithAudience(p.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.IssuedAt == nil {
		return Claims{}, fmt.Errorf("%w: no iat", ErrInvalidToken)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > p.MaxLifetime {
		return Claims{}, fmt.Errorf("%w: lives %s, longer than %s", ErrInvalidToken, life, p.MaxLifetime)
	}
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	if !ValidRole(c.Role) {
		return Claims{}, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, c.Role)
	}
	return c, nil
}
