package bearer_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// Each insecure switch lets through exactly the attack it names, and nothing else: that is what lets
// the conformance suite tell which defect it caught.
func TestInsecureSwitchesOpenOnlyTheirOwnHole(t *testing.T) {
	rsKey := servertest.Keys(t).Active(jose.RS256)
	rsPEM := publicPEM(t, rsKey.Private.Public())
	claims := func(edit func(map[string]any)) map[string]any {
		c := baseClaims()
		if edit != nil {
			edit(c)
		}
		return c
	}
	signed := func(edit func(map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string {
			o := rsaOpts(t)
			o.claims = claims(edit)
			return forge(t, o)
		}
	}
	attacks := map[string]func(t *testing.T) string{
		"wrong audience": signed(func(c map[string]any) { c["aud"] = "https://other.example" }),
		"wrong issuer":   signed(func(c map[string]any) { c["iss"] = "https://evil.example" }),
		"expired":        signed(func(c map[string]any) { c["exp"] = testNow.Add(-time.Hour).Unix() }),
		"alg none": func(*testing.T) string {
			return forgeRaw(map[string]any{"alg": "none", "typ": "at+jwt"}, baseClaims(), nil)
		},
		"HS256 keyed with the public key": func(t *testing.T) string { return hmacWith(t, rsPEM, rsKey.KID, baseClaims()) },
	}
	opens := map[string]bearer.Insecure{
		"wrong audience":                  {SkipAudience: true},
		"wrong issuer":                    {SkipIssuer: true},
		"expired":                         {IgnoreExpiry: true},
		"alg none":                        {AcceptNone: true},
		"HS256 keyed with the public key": {AcceptHSWithPublicKey: true},
	}
	for hole, ins := range opens {
		for attack, make := range attacks {
			t.Run(hole+"/"+attack, func(t *testing.T) {
				v := newValidator(t)
				v.Insecure = func() bearer.Insecure { return ins }
				_, err := v.Validate(context.Background(), make(t))
				if want := attack == hole; (err == nil) != want {
					t.Errorf("with only %q open, %q accepted = %v, want %v (err %v)", hole, attack, err == nil, want, err)
				}
			})
		}
	}
	t.Run("all closed", func(t *testing.T) {
		v := newValidator(t)
		v.Insecure = func() bearer.Insecure { return bearer.Insecure{} }
		for attack, make := range attacks {
			if _, err := v.Validate(context.Background(), make(t)); err == nil {
				t.Errorf("%s accepted with every switch off", attack)
			}
		}
		o := rsaOpts(t)
		if _, err := v.Validate(context.Background(), forge(t, o)); err != nil {
			t.Errorf("a good token is refused: %v", err)
		}
	})
}
