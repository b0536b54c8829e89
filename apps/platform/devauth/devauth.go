// Package devauth owns the shape of Harvest's bearer tokens and the secret
// the development stack signs them with: HS256 JWTs carrying sub, role, exp,
// iat and iss "harvest-dev". The launcher (deploy/local) mints them for
// developers and end-to-end tests; the gateway verifies them. Production
// tokens come from an identity provider with the same claims and a real
// secret (HARVEST_JWT_SECRET), never DevSecret.
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

// Issuer is the iss claim of every token.
const Issuer = "harvest-dev"

// Claim names, for code that reads a token without this package.
const (
	ClaimSubject = "sub"
	ClaimRole    = "role"
	ClaimExpires = "exp"
	ClaimIssuer  = "iss"
)

// Roles a token may carry; they match the GraphQL schema's Role enum.
const (
	RoleCustomer          = "CUSTOMER"
	RoleCSAgent           = "CS_AGENT"
	RoleCSSupervisor      = "CS_SUPERVISOR"
	RoleWarehouseOperator = "WAREHOUSE_OPERATOR"
	RoleMarketing         = "MARKETING"
	RoleAdmin             = "ADMIN"
)

// Roles lists every role a token may carry.
var Roles = []string{RoleCustomer, RoleCSAgent, RoleCSSupervisor, RoleWarehouseOperator, RoleMarketing, RoleAdmin}

// ErrInvalidToken is returned by Parse for any token that must not be trusted.
var ErrInvalidToken = errors.New("invalid token")

// Claims is a token's body.
type Claims struct {
	Role string `json:"role"`
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
	switch {
	case secret == "":
		return "", errors.New("mint token: empty secret")
	case !ValidRole(role):
		return "", fmt.Errorf("mint token: unknown role %q (want one of %v)", role, Roles)
	case subject == "":
		return "", errors.New("mint token: empty subject")
	case ttl <= 0:
		return "", fmt.Errorf("mint token: ttl %s is not positive", ttl)
	}
	now := time.Now()
	c := Claims{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    Issuer,
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

// Parse verifies token: HS256 only, signed with secret, issuer harvest-dev,
// not expired (30 s leeway), with a subject and a known role. Every failure
// wraps ErrInvalidToken.
func Parse(secret, token string) (Claims, error) { return ParseAt(secret, token, time.Now) }

// ParseAt is Parse judging expiry by now, for verifiers with a settable clock.
func ParseAt(secret, token string, now func() time.Time) (Claims, error) {
	if secret == "" {
		return Claims{}, fmt.Errorf("%w: empty secret", ErrInvalidToken)
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	if !ValidRole(c.Role) {
		return Claims{}, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, c.Role)
	}
	return c, nil
}
