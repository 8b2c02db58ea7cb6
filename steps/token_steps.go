package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

func tokenSteps(sc *godog.ScenarioContext) {
	step(sc, `^([A-Z].*?) asks for a token for the (.+?)(?: with (a wrong secret|scope "[^"]*"))?$`, asksForToken)
	step(sc, `^an unknown client asks for a token for the (.+)$`, unknownClientAsks)
	step(sc, `^([A-Z].*?) asks for a token with grant type "([^"]*)"$`, asksWithGrantType)
	step(sc, `^([A-Z].*?) has a token for the (.+)$`, hasToken)
	step(sc, `^the token request succeeds$`, tokenSucceeds)
	step(sc, `^each client authentication method the target advertises is used to get a token$`, everyAuthMethod)
	step(sc, `^every one of them succeeds$`, everyOneSucceeds)
	step(sc, `^the token request is refused with "([^"]*)" and status (\d+)$`, tokenRefusedWith)
	step(sc, `^the token request is refused$`, tokenRefused)
	step(sc, `^the access token's client is (.+)$`, tokenClientIs)
	step(sc, `^the access token's sub is the client id of (.+)$`, subIsClientID)
	step(sc, `^the access token's aud is the identifier of the (.+)$`, audIsAPI)
	step(sc, `^the access token's iss is the target's issuer$`, issIsTarget)
	step(sc, `^the access token's scope is exactly "([^"]*)"$`, scopeIsExactly)
	step(sc, `^the access token expires after the (.+)'s token lifetime$`, expiresAfterLifetime)
	step(sc, `^the access token's signature verifies with the JWKS key named by its kid$`, signatureVerifies)
	step(sc, `^the access token's header typ is "([^"]*)"$`, headerTyp)
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

// requestToken posts form to the token endpoint, authenticating as c with secret, and keeps the answer
// and the tokens it carries.
func requestToken(ctx context.Context, c target.Client, secret string, form url.Values) error {
	w := worldOf(ctx)
	r, err := tokenRequest(ctx, c, secret, form)
	if err != nil {
		return err
	}
	w.lastAuth = authMethod(c)
	w.tokenReply = r
	w.accessToken, w.idToken = "", ""
	if r.status == 200 && r.json != nil {
		w.accessToken, _ = r.json["access_token"].(string)
		w.idToken, _ = r.json["id_token"].(string)
		w.tokens["id:"+c.ClientID] = w.accessToken
		if rt, _ := r.json["refresh_token"].(string); rt != "" {
			w.refreshToken = rt
		}
	}
	return nil
}

func authMethod(c target.Client) string {
	if c.AuthMethod == "" {
		return "client_secret_basic"
	}
	return c.AuthMethod
}

// tokenRequest posts form to the token endpoint as c and returns the answer. It changes nothing in
// the scenario's state, so several may run at once.
func tokenRequest(ctx context.Context, c target.Client, secret string, form url.Values) (*reply, error) {
	ep, err := tokenEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	return clientPost(ctx, ep, c, secret, form)
}

// clientPost posts form to one of the target's endpoints, authenticated as the client.
func clientPost(ctx context.Context, ep string, c target.Client, secret string, form url.Values) (*reply, error) {
	w := worldOf(ctx)
	form = maps.Clone(form)
	method := authMethod(c)
	switch method {
	case "client_secret_post":
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", secret)
	case "none":
		form.Set("client_id", c.ClientID)
	case "private_key_jwt", "client_secret_jwt":
		aud, err := tokenEndpoint(ctx) // RFC 7523 §3: the token endpoint identifies the server
		if err != nil {
			return nil, err
		}
		assertion, err := clientAssertion(c, aud)
		if err != nil {
			return nil, err
		}
		form.Set("client_id", c.ClientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	case "client_secret_basic":
	default:
		return nil, fmt.Errorf("the harness cannot authenticate %s with %s", c.ClientID, method)
	}
	req, err := http.NewRequest(http.MethodPost, ep, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(secret)) // RFC 6749 §2.3.1
	}
	return w.do(ctx, req)
}

// clientAssertion signs a private_key_jwt assertion (RFC 7523 §3) with the client's key: a fresh jti
// each time, since servers refuse a replayed one.
func clientAssertion(c target.Client, audience string) (string, error) {
	if authMethod(c) == "client_secret_jwt" { // RFC 7523 §2.2 with OIDC Core §9: HMAC with the secret
		return signAssertion(c, jose.SigningKey{Algorithm: jose.HS256, Key: []byte(c.ClientSecret)}, audience)
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON([]byte(c.PrivateKey)); err != nil {
		return "", fmt.Errorf("the private_key of %s is not a JWK: %w", c.ClientID, err)
	}
	if key.IsPublic() {
		return "", fmt.Errorf("the private_key of %s is a public key", c.ClientID)
	}
	alg := jose.SignatureAlgorithm(key.Algorithm)
	if alg == "" {
		return "", fmt.Errorf("the private_key of %s has no alg", c.ClientID)
	}
	return signAssertion(c, jose.SigningKey{Algorithm: alg, Key: key}, audience)
}

func signAssertion(c target.Client, key jose.SigningKey, audience string) (string, error) {
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("cannot sign with the private_key of %s: %w", c.ClientID, err)
	}
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{"iss": c.ClientID, "sub": c.ClientID, "aud": audience,
		"jti": tokens.Random(16), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func asksForToken(ctx context.Context, clientAlias, apiAlias, modifier string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	api, err := w.target.API(apiAlias)
	if err != nil {
		return err
	}
	secret := c.ClientSecret
	form := w.clientCredentialsForm(api)
	switch {
	case modifier == "a wrong secret":
		secret = "wrong-" + secret
	case strings.HasPrefix(modifier, "scope "):
		form.Set("scope", w.target.ScopeString(strings.Trim(strings.TrimPrefix(modifier, "scope "), `"`)))
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
	w := worldOf(ctx)
	api, err := w.target.API(apiAlias)
	if err != nil {
		return err
	}
	c := target.Client{ClientID: "no-such-client-" + fmt.Sprint(time.Now().UnixNano()), AuthMethod: "client_secret_basic"}
	return requestToken(ctx, c, "no-such-secret", w.clientCredentialsForm(api))
}

// clientCredentialsForm is a client-credentials request for api, named in the target's dialect.
func (w *world) clientCredentialsForm(api target.API) url.Values {
	form := w.target.AudienceParams(api)
	form.Set("grant_type", "client_credentials")
	return form
}

func asksWithGrantType(ctx context.Context, clientAlias, grant string) error {
	c, err := worldOf(ctx).app(clientAlias)
	if err != nil {
		return err
	}
	return requestToken(ctx, c, c.ClientSecret, url.Values{"grant_type": {grant}})
}

// hasToken gets the client a token with the scopes of its grant when the profile lists them (what
// a server grants for a request without scope is its own choice: RFC 6749 §3.3).
func hasToken(ctx context.Context, clientAlias, apiAlias string) error {
	if apiAlias == "protected resource's API" {
		_, api, err := protectedResource(ctx)
		if err != nil {
			return err
		}
		apiAlias = api
	}
	modifier := ""
	if c, err := worldOf(ctx).app(clientAlias); err == nil && len(c.Grants[apiAlias]) > 0 {
		modifier = `scope "` + strings.Join(c.Grants[apiAlias], " ") + `"`
	}
	if err := asksForToken(ctx, clientAlias, apiAlias, modifier); err != nil {
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

// claims decodes the last access token, which must be a JWT unless the target declares opaque ones.
func claims(ctx context.Context) (map[string]any, map[string]any, error) {
	w := worldOf(ctx)
	if w.target.Dialect.AccessTokens.Format == target.FormatOpaque && w.accessToken != "" {
		return nil, nil, notApplicable("the target declares opaque access tokens (dialect.access_tokens.format), so their claims cannot be read")
	}
	return decoded(ctx, "access token", w.accessToken)
}

// tokenClientIs checks the claims that name the token's client: RFC 9068 §2.2's client_id, or
// those the target's dialect declares (Auth0 and the seeds add azp).
func tokenClientIs(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	for _, claim := range w.target.Dialect.AccessTokens.ClientClaims {
		if cl[claim] != c.ClientID {
			return fmt.Errorf("the access token's %s: expected %q (the client id of %s), got %v", claim, c.ClientID, clientAlias, cl[claim])
		}
	}
	return nil
}

// subIsClientID: RFC 9068 §2.2 says a token issued without a resource owner SHOULD name the client
// in sub, so it is checked only where the target's dialect declares it.
func subIsClientID(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	if !w.target.Dialect.AccessTokens.ClientSubject {
		return notApplicable("the target does not declare dialect.access_tokens.client_subject (RFC 9068 §2.2: SHOULD)")
	}
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	if cl["sub"] != c.ClientID {
		return fmt.Errorf("the access token's sub: expected %q (the client id of %s), got %v", c.ClientID, clientAlias, cl["sub"])
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
	if want := worldOf(ctx).target.Issuer; cl["iss"] != want {
		return fmt.Errorf("the access token's iss: expected %q, got %v", want, cl["iss"])
	}
	return nil
}

// scopeIsExactly compares the token's scope with the aliases in the target's scope strings. The
// API scopes must match exactly; OpenID's own scopes (openid, offline_access, ...) are the
// provider's to include in an API's token or not, but never ones that were not asked for.
func scopeIsExactly(ctx context.Context, want string) error {
	w := worldOf(ctx)
	_, cl, err := claims(ctx)
	if err != nil {
		return err
	}
	got, _ := cl["scope"].(string)
	wanted := w.target.Scopes(want)
	var gotAPI, wantAPI []string
	for _, s := range strings.Fields(got) {
		if target.IsOIDCScope(s) {
			if !slices.Contains(wanted, s) {
				return fmt.Errorf("the access token's scope %q has %s, which was not asked for (expected %q)", got, s, strings.Join(wanted, " "))
			}
			continue
		}
		gotAPI = append(gotAPI, s)
	}
	for _, s := range wanted {
		if !target.IsOIDCScope(s) {
			wantAPI = append(wantAPI, s)
		}
	}
	slices.Sort(gotAPI)
	slices.Sort(wantAPI)
	if !slices.Equal(gotAPI, slices.Compact(wantAPI)) {
		return fmt.Errorf("the access token's scope: expected exactly %q, got %q", strings.Join(wanted, " "), got)
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
	return verifyWithJWKS(ctx, "access token", worldOf(ctx).accessToken)
}

// verifyWithJWKS checks a token's signature with the one JWKS key its kid names.
func verifyWithJWKS(ctx context.Context, kind, token string) error {
	w := worldOf(ctx)
	h, _, err := decoded(ctx, kind, token)
	if err != nil {
		return err
	}
	kid, _ := h["kid"].(string)
	if kid == "" {
		return fmt.Errorf("the %s's header has no kid", kind)
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
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return fmt.Errorf("the %s is not a JWS signed with %s: %w", kind, alg, err)
	}
	if _, err := jws.Verify(keys[0].Key); err != nil {
		return fmt.Errorf("the %s's signature does not verify with key %q: %w", kind, kid, err)
	}
	return nil
}

// headerTyp: RFC 9068 §2.1's typ, for a target whose access tokens follow RFC 9068.
func headerTyp(ctx context.Context, want string) error {
	if f := worldOf(ctx).target.Dialect.AccessTokens.Format; f != target.FormatRFC9068 {
		return notApplicable("the target declares %s access tokens, not RFC 9068 ones (dialect.access_tokens.format)", f)
	}
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

// everyAuthMethod gets a client-credentials token with each method discovery advertises, using a
// client of the profile that authenticates that way and has a client grant.
func everyAuthMethod(ctx context.Context) error {
	w := worldOf(ctx)
	d, err := discover(ctx)
	if err != nil {
		return err
	}
	methods, _ := d["token_endpoint_auth_methods_supported"].([]any)
	if len(methods) == 0 {
		methods = []any{"client_secret_basic"} // the default (RFC 8414 §2, OIDC Discovery §3)
	}
	w.replies, w.untested = nil, nil
	var missing []string
	for _, m := range methods {
		method := fmt.Sprint(m)
		if method == "none" {
			continue // public clients have no client credentials grant
		}
		var found bool
		for _, alias := range sortedAliases(w.target.Clients) {
			c := w.target.Clients[alias]
			if authMethod(c) != method || len(c.Grants) == 0 {
				continue
			}
			api, err := w.target.API(sortedAliases(c.Grants)[0])
			if err != nil {
				return err
			}
			form := w.clientCredentialsForm(api)
			if g := c.Grants[sortedAliases(c.Grants)[0]]; len(g) > 0 {
				form.Set("scope", w.target.ScopeString(strings.Join(g, " ")))
			}
			r, err := tokenRequest(ctx, c, c.ClientSecret, form)
			if err != nil {
				return err
			}
			r.label = method + " (" + alias + ")"
			w.replies = append(w.replies, r)
			found = true
			break
		}
		if !found {
			missing = append(missing, method)
		}
	}
	w.untested = missing
	return nil
}

func everyOneSucceeds(ctx context.Context) error {
	w := worldOf(ctx)
	if len(w.replies) == 0 && len(w.untested) > 0 {
		return notApplicable("the target advertises %s, but its profile has no client with a client grant that authenticates that way", strings.Join(w.untested, ", "))
	}
	if len(w.replies) == 0 {
		return fmt.Errorf("no requests were made")
	}
	var bad []string
	for _, r := range w.replies {
		if r.status != 200 || r.json == nil || r.json["access_token"] == nil {
			bad = append(bad, r.label+": "+r.String())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d failed: %s", len(bad), len(w.replies), strings.Join(bad, "; "))
	}
	if len(w.untested) > 0 {
		return notApplicable("%d advertised methods work, but %s could not be tried: the target profile has no client with a client grant that authenticates that way",
			len(w.replies), strings.Join(w.untested, ", "))
	}
	return nil
}
