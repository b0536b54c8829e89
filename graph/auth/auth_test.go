package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := NewVerifier(secret, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	good, _ := Mint(secret, Identity{Subject: "c1", Role: RoleCustomer}, time.Minute)
	expired, _ := Mint(secret, Identity{Subject: "c1", Role: RoleCustomer}, -time.Hour)
	otherKey, _ := Mint([]byte("another-secret-another-secret-xx"), Identity{Subject: "c1", Role: RoleCustomer}, time.Minute)
	badRole, _ := Mint(secret, Identity{Subject: "c1", Role: "ROOT"}, time.Minute)
	noSub, _ := Mint(secret, Identity{Role: RoleCustomer}, time.Minute)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, Claims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "x", Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, IssuedAt: jwt.NewNumericDate(time.Now()),
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	otherIss, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "x", Issuer: "evil", Audience: jwt.ClaimStrings{Audience}, IssuedAt: jwt.NewNumericDate(time.Now()),
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}).SignedString(secret)

	id, ok, err := v.FromAuthorization("Bearer " + good)
	if err != nil || !ok || id.Subject != "c1" || id.Role != RoleCustomer || id.ExpiresAt.IsZero() {
		t.Fatalf("good token: %v %v %v", id, ok, err)
	}
	if _, ok, err := v.FromAuthorization(""); ok || err != nil {
		t.Fatalf("empty header: %v %v", ok, err)
	}
	for name, h := range map[string]string{
		"expired": "Bearer " + expired, "other key": "Bearer " + otherKey, "bad role": "Bearer " + badRole,
		"no subject": "Bearer " + noSub, "alg none": "Bearer " + none, "other issuer": "Bearer " + otherIss,
		"basic": "Basic abc", "bare": good,
	} {
		if _, _, err := v.FromAuthorization(h); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

// A token verified once is remembered, but only until it expires: then it
// is checked again and refused.
func TestVerifiedTokenIsRememberedUntilItExpires(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := NewVerifier(secret, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v.now = func() time.Time { return now }
	tok, _ := Mint(secret, Identity{Subject: "c1", Role: RoleCustomer}, time.Minute)
	for range 2 {
		if id, err := v.Verify(tok); err != nil || id.Subject != "c1" {
			t.Fatalf("fresh token: %v %v", id, err)
		}
	}
	if len(v.verified) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(v.verified))
	}
	now = now.Add(2 * time.Minute) // past exp and the 30 s leeway
	if _, err := v.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired remembered token: %v, want ErrInvalidToken", err)
	}
	forged := tok[:len(tok)-2] + "xx"
	if _, err := v.Verify(forged); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("forged signature: %v", err)
	}
}

// claims are a well-formed customer token's, for the cases below to spoil.
func claims(now time.Time) Claims {
	return Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "c1", Issuer: "https://id.harvest.example", Audience: jwt.ClaimStrings{"harvest-gateway"},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}
}

// The gateway checks audience, issuer (from its config), a capped lifetime
// with iat and exp both present, and the algorithm pinned to HS256.
func TestVerifyPolicy(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	p := Policy{Issuer: "https://id.harvest.example", Audience: "harvest-gateway", MaxLifetime: 2 * time.Hour}
	now := time.Now()
	sign := func(m jwt.SigningMethod, key any, edit func(*Claims)) string {
		c := claims(now)
		edit(&c)
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := func(edit func(*Claims)) string { return sign(jwt.SigningMethodHS256, secret, edit) }
	cases := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"good", hs(func(*Claims) {}), true},
		{"one of several audiences", hs(func(c *Claims) { c.Audience = jwt.ClaimStrings{"other", "harvest-gateway"} }), true},
		{"lifetime at the cap", hs(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(2 * time.Hour)) }), true},
		{"no audience", hs(func(c *Claims) { c.Audience = nil }), false},
		{"other audience", hs(func(c *Claims) { c.Audience = jwt.ClaimStrings{"harvest-admin-console"} }), false},
		{"development issuer", hs(func(c *Claims) { c.Issuer = Issuer }), false},
		{"no issuer", hs(func(c *Claims) { c.Issuer = "" }), false},
		{"lives too long", hs(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(2*time.Hour + time.Minute)) }), false},
		{"a year", hs(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(365 * 24 * time.Hour)) }), false},
		{"no iat", hs(func(c *Claims) { c.IssuedAt = nil }), false},
		{"no exp", hs(func(c *Claims) { c.ExpiresAt = nil }), false},
		{"issued in the future", hs(func(c *Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(10 * time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour))
		}), false},
		{"HS512", sign(jwt.SigningMethodHS512, secret, func(*Claims) {}), false},
		{"HS384", sign(jwt.SigningMethodHS384, secret, func(*Claims) {}), false},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, func(*Claims) {}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(secret, p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(tc.tok)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestNewVerifierRefusesAnIncompletePolicy(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	if v, err := NewVerifier(secret, Policy{}); err != nil || v.policy != DefaultPolicy() {
		t.Errorf("zero policy: %+v, %v; want DefaultPolicy", v, err)
	}
	for name, p := range map[string]Policy{
		"no issuer":   {Audience: Audience, MaxLifetime: time.Hour},
		"no audience": {Issuer: Issuer, MaxLifetime: time.Hour},
		"no lifetime": {Issuer: Issuer, Audience: Audience},
	} {
		if _, err := NewVerifier(secret, p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
