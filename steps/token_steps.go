package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

func tokenSteps(sc *godog.ScenarioContext) {
	sc.Step(`^([A-Z].*?) asks for a token for the (.+?)(?: with (a wrong secret|scope "[^"]*"))?$`, asksForToken)
	sc.Step(`^an unknown client asks for a token for the (.+)$`, unknownClientAsks)
	sc.Step(`^([A-Z].*?) asks for a token with grant type "([^"]*)"$`, asksWithGrantType)
	sc.Step(`^([A-Z].*?) has a token for the (.+)$`, hasToken)
	sc.Step(`^the token request succeeds$`, tokenSucceeds)
	sc.Step(`^the token request is refused with "([^"]*)" and status (\d+)$`, tokenRefusedWith)
	sc.Step(`^the token request is refused$`, tokenRefused)
	sc.Step(`^the access token's (sub|azp|client_id) is the client id of (.+)$`, claimIsClientID)
	sc.Step(`^the access token's aud is the identifier of the (.+)$`, audIsAPI)
	sc.Step(`^the access token's iss is the target's issuer$`, issIsTarget)
	sc.Step(`^the access token's scope is exactly "([^"]*)"$`, scopeIsExactly)
	sc.Step(`^the access token expires after the (.+)'s token lifetime$`, expiresAfterLifetime)
	sc.Step(`^the access token's signature verifies with the JWKS key named by its kid$`, signatureVerifies)
	sc.Step(`^the access token's header typ is "([^"]*)"$`, headerTyp)
}

// tokenEndpoint comes from discovery, so an external target needs nothing else configured.
func tokenEndpoint(ctx context.Context) (string, error) {
	d, err := discover(ctx)
	if err != nil {
		return "", err
	}
	ep, _ := d["token_endpoint"].(string)
	if ep == "" {
		return "", fmt.Errorf("the discovery document has no token_endpoint")
	}
	return ep, nil
}

// requestToken posts form to the token endpoint, authenticating as c with secret.
func requestToken(ctx context.Context, c target.Client, secret string, form url.Values) error {
	w := worldOf(ctx)
	ep, err := tokenEndpoint(ctx)
	if err != nil {
		return err
	}
	method := c.AuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	switch method {
	case "client_secret_post":
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", secret)
	case "none":
		form.Set("client_id", c.ClientID)
	case "client_secret_basic":
	default:
		return fmt.Errorf("the harness cannot authenticate %s with %s yet", c.ClientID, method)
	}
	req, err := http.NewRequest(http.MethodPost, ep, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(secret)) // RFC 6749 §2.3.1
	}
	w.lastAuth = method
	w.tokenReply, err = w.do(ctx, req)
	if err != nil {
		return err
	}
	w.accessToken = ""
	if w.tokenReply.status == 200 && w.tokenReply.json != nil {
		w.accessToken, _ = w.tokenReply.json["access_token"].(string)
	}
	return nil
}

func asksForToken(ctx context.Context, clientAlias, apiAlias, modifier string) error {
	w := worldOf(ctx)
	c, err := w.target.Client(clientAlias)
	if err != nil {
		return err
	}
	api, err := w.target.API(apiAlias)
	if err != nil {
		return err
	}
	secret := c.ClientSecret
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {api.Identifier}}
	switch {
	case modifier == "a wrong secret":
		secret = "wrong-" + secret
	case strings.HasPrefix(modifier, "scope "):
		form.Set("scope", strings.Trim(strings.TrimPrefix(modifier, "scope "), `"`))
	}
	if err := requestToken(ctx, c, secret, form); err != nil {
		return err
	}
	if w.accessToken != "" {
		w.tokens[clientAlias] = w.accessToken
	}
	return nil
}

func unknownClientAsks(ctx context.Context, apiAlias string) error {
	api, err := worldOf(ctx).target.API(apiAlias)
	if err != nil {
		return err
	}
	c := target.Client{ClientID: "no-such-client-" + fmt.Sprint(time.Now().UnixNano()), AuthMethod: "client_secret_basic"}
	return requestToken(ctx, c, "no-such-secret", url.Values{"grant_type": {"client_credentials"}, "audience": {api.Identifier}})
}

func asksWithGrantType(ctx context.Context, clientAlias, grant string) error {
	c, err := worldOf(ctx).target.Client(clientAlias)
	if err != nil {
		return err
	}
	return requestToken(ctx, c, c.ClientSecret, url.Values{"grant_type": {grant}})
}

func hasToken(ctx context.Context, clientAlias, apiAlias string) error {
	if err := asksForToken(ctx, clientAlias, apiAlias, ""); err != nil {
		return err
	}
	return tokenSucceeds(ctx)
}

func tokenSucceeds(ctx context.Context) error {
	w := worldOf(ctx)
	r := w.tokenReply
	if r == nil {
		return fmt.Errorf("no token request was made")
	}
	if r.status != 200 || w.accessToken == "" {
		return fmt.Errorf("token request: expected HTTP 200 with an access_token, got %s", r)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		return fmt.Errorf("token response: expected Cache-Control: no-store (RFC 6749 §5.1), got %q", cc)
	}
	return nil
}

func tokenRefused(ctx context.Context) error {
	r := worldOf(ctx).tokenReply
	if r == nil {
		return fmt.Errorf("no token request was made")
	}
	if r.status < 400 || r.status > 499 || r.json == nil || r.json["error"] == nil {
		return fmt.Errorf("token request: expected a 4xx answer with an error member (RFC 6749 §5.2), got %s", r)
	}
	return nil
}

func tokenRefusedWith(ctx context.Context, code string, status int) error {
	if err := tokenRefused(ctx); err != nil {
		return err
	}
	r := worldOf(ctx).tokenReply
	if r.json["error"] != code || r.status != status {
		return fmt.Errorf("token request: expected HTTP %d with error %q, got %s", status, code, r)
	}
	if status == 401 && r.header.Get("WWW-Authenticate") == "" && worldOf(ctx).lastAuth == "client_secret_basic" {
		return fmt.Errorf("a 401 to Basic authentication must carry WWW-Authenticate (RFC 6749 §5.2), got none")
	}
	return nil
}

// claims decodes the last access token.
func claims(ctx context.Context) (map[string]any, map[string]any, error) {
	w := worldOf(ctx)
	if w.accessToken == "" {
		return nil, nil, fmt.Errorf("there is no access token to check (last token answer: %s)", w.tokenReply)
	}
	return jwtParts(w.accessToken)
}

func claimIsClientID(ctx context.Context, claim, clientAlias string) error {
	c, err := worldOf(ctx).target.Client(clientAlias)
	if err != nil {
		return err
	}
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	if cl[claim] != c.ClientID {
		return fmt.Errorf("the access token's %s: expected %q (the client id of %s), got %v", claim, c.ClientID, clientAlias, cl[claim])
	}
	return nil
}

func audIsAPI(ctx context.Context, apiAlias string) error {
	api, err := worldOf(ctx).target.API(apiAlias)
	if err != nil {
		return err
	}
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	switch aud := cl["aud"].(type) {
	case string:
		if aud == api.Identifier {
			return nil
		}
	case []any:
		if slices.Contains(aud, any(api.Identifier)) {
			return nil
		}
	}
	return fmt.Errorf("the access token's aud: expected %q (the identifier of the %s), got %v", api.Identifier, apiAlias, cl["aud"])
}

func issIsTarget(ctx context.Context) error {
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	if want := strings.TrimSuffix(worldOf(ctx).target.Issuer, "/"); cl["iss"] != want {
		return fmt.Errorf("the access token's iss: expected %q, got %v", want, cl["iss"])
	}
	return nil
}

func scopeIsExactly(ctx context.Context, want string) error {
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	got, _ := cl["scope"].(string)
	g, w := strings.Fields(got), strings.Fields(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		return fmt.Errorf("the access token's scope: expected exactly %q, got %q", want, got)
	}
	return nil
}

func expiresAfterLifetime(ctx context.Context, apiAlias string) error {
	api, err := worldOf(ctx).target.API(apiAlias)
	if err != nil {
		return err
	}
	if api.TokenLifetime == 0 {
		return fmt.Errorf("the target profile gives no token_lifetime for the %s, so this cannot be checked", apiAlias)
	}
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	exp, ok1 := cl["exp"].(float64)
	iat, ok2 := cl["iat"].(float64)
	if !ok1 || !ok2 {
		return fmt.Errorf("the access token needs numeric exp and iat, got exp=%v iat=%v", cl["exp"], cl["iat"])
	}
	if got, want := time.Duration(exp-iat)*time.Second, time.Duration(api.TokenLifetime); got != want {
		return fmt.Errorf("the access token lives exp-iat = %s, expected the %s's %s", got, apiAlias, want)
	}
	return nil
}

func signatureVerifies(ctx context.Context) error {
	w := worldOf(ctx)
	h, _, err := claims(ctx)
	if err != nil {
		return err
	}
	kid, _ := h["kid"].(string)
	if kid == "" {
		return fmt.Errorf("the access token's header has no kid")
	}
	if err := readJWKS(ctx); err != nil {
		return err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(w.jwks.body, &set); err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	keys := set.Key(kid)
	if len(keys) != 1 {
		return fmt.Errorf("the JWKS has %d keys with kid %q, expected exactly one", len(keys), kid)
	}
	alg := jose.SignatureAlgorithm(keys[0].Algorithm)
	if alg == "" {
		alg = jose.SignatureAlgorithm(fmt.Sprint(h["alg"]))
	}
	jws, err := jose.ParseSignedCompact(w.accessToken, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return fmt.Errorf("the access token is not a JWS signed with %s: %w", alg, err)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		return fmt.Errorf("the access token's signature does not verify with key %q: %w", kid, err)
	}
	return nil
}

func headerTyp(ctx context.Context, want string) error {
	h, _, err := claims(ctx)
	if err != nil {
		return err
	}
	got, _ := h["typ"].(string)
	if !strings.EqualFold(got, want) && !strings.EqualFold(got, "application/"+want) {
		return fmt.Errorf("the access token's typ: expected %q, got %q", want, got)
	}
	return nil
}
