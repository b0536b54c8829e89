package devauth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestMintParseRoundTrip(t *testing.T) {
	t.Parallel()
	for _, role := range Roles {
		tok, err := Mint(DevSecret, role, "C0001", time.Hour)
		if err != nil {
			t.Fatalf("Mint(%s): %v", role, err)
		}
		c, err := Parse(DevSecret, tok)
		if err != nil {
			t.Fatalf("Parse(%s): %v", role, err)
		}
		if c.Subject != "C0001" || c.Role != role || c.Issuer != Issuer || len(c.Audience) != 1 || c.Audience[0] != Audience || c.IssuedAt == nil {
			t.Fatalf("claims = %+v", c)
		}
		if d := time.Until(c.ExpiresAt.Time); d < 59*time.Minute || d > time.Hour {
			t.Fatalf("exp in %s, want about 1h", d)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	good, err := Mint(DevSecret, RoleCustomer, "C1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired := sign(t, Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "C1", Issuer: Issuer, ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Hour))}})
	noExp := sign(t, Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{Subject: "C1", Issuer: Issuer}})
	badIss := sign(t, Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "C1", Issuer: "other", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	badRole := sign(t, Claims{Role: "ROOT", RegisteredClaims: jwt.RegisteredClaims{
		Subject: "C1", Issuer: Issuer, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, Claims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "C1", Issuer: Issuer, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}).SignedString(jwt.UnsafeAllowNoneSignatureType)

	now := time.Now()
	noAud := sign(t, Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{Subject: "C1", Issuer: Issuer,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	noIat := sign(t, Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{Subject: "C1", Issuer: Issuer,
		Audience: jwt.ClaimStrings{Audience}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	tooLong := sign(t, Claims{Role: RoleCustomer, RegisteredClaims: jwt.RegisteredClaims{Subject: "C1", Issuer: Issuer,
		Audience: jwt.ClaimStrings{Audience}, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(MaxLifetime + time.Minute))}})
	cases := map[string]struct{ secret, tok string }{
		"no audience":    {DevSecret, noAud},
		"no iat":         {DevSecret, noIat},
		"lives too long": {DevSecret, tooLong},
		"wrong secret":   {"other", good},
		"expired":        {DevSecret, expired},
		"no exp":         {DevSecret, noExp},
		"bad issuer":     {DevSecret, badIss},
		"bad role":       {DevSecret, badRole},
		"alg none":       {DevSecret, none},
		"garbage":        {DevSecret, "not.a.token"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse(tc.secret, tc.tok); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Parse err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestMintRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := Mint("", RoleAdmin, "a", time.Hour); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := Mint(DevSecret, "ROOT", "a", time.Hour); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := Mint(DevSecret, RoleAdmin, "", time.Hour); err == nil {
		t.Error("empty subject accepted")
	}
	if _, err := Mint(DevSecret, RoleAdmin, "a", MaxLifetime+time.Second); err == nil {
		t.Error("ttl past MaxLifetime accepted")
	}
}

func sign(t *testing.T, c Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(DevSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
