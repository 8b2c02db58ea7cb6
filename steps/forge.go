package steps

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

var b64 = base64.RawURLEncoding

// forge turns a genuine access token into the forgery a scenario names. The harness needs no key of
// the target's: every forgery is built from the genuine token and the target's public JWKS.
func forge(ctx context.Context, forgery, token string) (string, error) {
	parts := strings.Split(token, ".")
	if worldOf(ctx).target.Dialect.AccessTokens.Format == target.FormatOpaque {
		return "", notApplicable("the target declares opaque access tokens: there is no signature to forge")
	}
	if len(parts) != 3 {
		return "", fmt.Errorf("the genuine token is not a compact JWS")
	}
	header, _, err := jwtParts(token)
	if err != nil {
		return "", err
	}
	switch forgery {
	case "the token with its payload tampered":
		_, claims, _ := jwtParts(token)
		claims["scope"] = worldOf(ctx).target.ScopeString("read:contacts update:contacts")
		claims["sub"] = "someone-else"
		p, _ := json.Marshal(claims)
		return parts[0] + "." + b64.EncodeToString(p) + "." + parts[2], nil
	case "the token re-signed with alg none":
		header["alg"] = "none"
		delete(header, "kid")
		h, _ := json.Marshal(header)
		return b64.EncodeToString(h) + "." + parts[1] + ".", nil
	case "the token with a kid the JWKS does not have":
		header["kid"] = "harness-unknown-kid"
		h, _ := json.Marshal(header)
		return b64.EncodeToString(h) + "." + parts[1] + "." + parts[2], nil
	case "the token re-signed with HS256 and the public key":
		pemKey, err := publicKeyPEM(ctx, fmt.Sprint(header["kid"]))
		if err != nil {
			return "", err
		}
		header["alg"] = "HS256"
		h, _ := json.Marshal(header)
		input := b64.EncodeToString(h) + "." + parts[1]
		mac := hmac.New(sha256.New, pemKey)
		mac.Write([]byte(input))
		return input + "." + b64.EncodeToString(mac.Sum(nil)), nil
	}
	return "", fmt.Errorf("the harness knows no forgery called %q", forgery)
}

// publicKeyPEM is the PEM of the JWKS key with kid: the secret of the RS256/HS256 confusion attack.
func publicKeyPEM(ctx context.Context, kid string) ([]byte, error) {
	if err := readJWKS(ctx); err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(worldOf(ctx).jwks.body, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	keys := set.Key(kid)
	if len(keys) == 0 {
		return nil, fmt.Errorf("the JWKS has no key %q to forge with", kid)
	}
	der, err := x509.MarshalPKIXPublicKey(keys[0].Key)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", kid, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
