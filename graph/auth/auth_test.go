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
	v, err := NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := Mint(secret, Identity{Subject: "c1", Role: RoleCustomer}, time.Minute)
	expired, _ := Mint(secret, Identity{Subject: "c1", Role: RoleCustomer}, -time.Hour)
	otherKey, _ := Mint([]byte("another-secret-another-secret-xx"), Identity{Subject: "c1", Role: RoleCustomer}, time.Minute)
	badRole, _ := Mint(secret, Identity{Subject: "c1", Role: "ROOT"}, time.Minute)
	noSub, _ := Mint(secret, Identity{Role: RoleCustomer}, time.Minute)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, Claims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "x", Issuer: Issuer, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	otherIss, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "x", Issuer: "evil", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}).SignedString(secret)

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
	v, err := NewVerifier(secret)
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
