package bearer_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// genuine is a token the test signed with a real key, decoded.
type genuine struct {
	token                string
	header, payload, sig []byte
	subject              string
}

func decodeCompact(tok string) (h, p, s []byte, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, nil, false
	}
	var err [3]error
	h, err[0] = b64.DecodeString(parts[0])
	p, err[1] = b64.DecodeString(parts[1])
	s, err[2] = b64.DecodeString(parts[2])
	return h, p, s, err[0] == nil && err[1] == nil && err[2] == nil
}

// FuzzValidate feeds arbitrary strings, and one-byte mutations of a valid token, to a validator that
// allows RS256 and HS256. It must never panic, and it must accept only tokens whose decoded header,
// payload and signature are exactly those of a token the test signed.
//
//	go test -run XXX -fuzz FuzzValidate -fuzztime 20s ./reference-server/bearer/
func FuzzValidate(f *testing.F) {
	kr := servertest.Keys(f)
	secret := []byte("fuzz-secret-0123456789abcdef-0123")
	v := newValidator(f, jose.RS256, jose.HS256)
	v.HMACSecret = secret

	rsTok := forge(f, rsaOpts(f))
	hsTok := forge(f, forgeOpts{alg: jose.HS256, key: secret, typ: "at+jwt", claims: baseClaims()})
	var valid []genuine
	for _, tok := range []string{rsTok, hsTok} {
		if _, err := v.Validate(context.Background(), tok); err != nil {
			f.Fatalf("seed token refused: %v", err)
		}
		h, p, s, _ := decodeCompact(tok)
		valid = append(valid, genuine{tok, h, p, s, "user-sam"})
	}

	rsKey := kr.Active(jose.RS256)
	der, err := x509.MarshalPKIXPublicKey(rsKey.Private.Public())
	if err != nil {
		f.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	seeds := []string{
		rsTok,
		hsTok,
		forgeRaw(map[string]any{"alg": "none", "typ": "at+jwt"}, baseClaims(), nil),
		hmacWith(f, pemBytes, rsKey.KID, baseClaims()),
		hmacWith(f, kr.JWKS(), rsKey.KID, baseClaims()),
		"",
		"..",
		"e30.e30.",
		strings.Replace(rsTok, ".", "..", 1),
	}
	for i, s := range seeds {
		f.Add(s, uint16(i*37), byte(i))
	}

	f.Fuzz(func(t *testing.T, tok string, pos uint16, b byte) {
		mutated := []byte(valid[int(pos)%len(valid)].token)
		if len(mutated) > 0 {
			mutated[int(pos)%len(mutated)] ^= b | 1 // always a real change
		}
		for _, candidate := range []string{tok, string(mutated)} {
			c, err := v.Validate(context.Background(), candidate)
			if err != nil {
				if c != nil {
					t.Fatalf("claims returned with an error for %q", candidate)
				}
				if e := bearer.AsError(err); e.Code != "invalid_token" || e.Status != 401 {
					t.Fatalf("refusal is not invalid_token/401: %+v", e)
				}
				continue
			}
			h, p, s, ok := decodeCompact(candidate)
			if !ok {
				t.Fatalf("accepted %q, whose segments do not decode", candidate)
			}
			match := false
			for _, g := range valid {
				if bytes.Equal(h, g.header) && bytes.Equal(p, g.payload) && bytes.Equal(s, g.sig) {
					match = c.Subject == g.subject
				}
			}
			if !match {
				t.Fatalf("accepted a token that is not a genuinely signed one:\n%q\nheader %s\npayload %s", candidate, h, p)
			}
		}
	})
}
