package steps

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
)

// Steps for the endpoints around the tokens: userinfo (OIDC Core §5.3), introspection (RFC 7662),
// revocation (RFC 7009) and the password grant of a trusted app (RFC 6749 §4.3).
func endpointSteps(sc *godog.ScenarioContext) {
	step(sc, `^(.+?) calls userinfo with (?:its|the) access token$`, callsUserinfo)
	step(sc, `^someone calls userinfo without a token$`, callsUserinfoWithoutToken)
	step(sc, `^the userinfo endpoint answers 200 with the sub of (\w+)$`, userinfoSub)
	step(sc, `^the userinfo endpoint answers (\d+)$`, userinfoStatus)
	step(sc, `^the userinfo endpoint refuses it with 401 or 403$`, userinfoRefuses)
	step(sc, `^the userinfo endpoint refuses the request with a Bearer challenge$`, userinfoChallenges)
	step(sc, `^(.+?) introspects its (access|refresh) token$`, introspectsOwn)
	step(sc, `^(.+?) introspects a token the target never issued$`, introspectsUnknown)
	step(sc, `^someone introspects (.+?)'s access token without client authentication$`, introspectsAnonymously)
	step(sc, `^the introspection says the token is active for (.+?) with scope "([^"]*)"$`, introspectionActive)
	step(sc, `^the introspection says the token is not active$`, introspectionInactive)
	step(sc, `^the introspection is refused for want of client authentication$`, introspectionNeedsClientAuth)
	step(sc, `^(.+?) revokes its (access|refresh) token$`, revokesOwn)
	step(sc, `^(.+?) revokes a token the target never issued$`, revokesUnknown)
	step(sc, `^the revocation succeeds$`, revocationSucceeds)
	step(sc, `^(.+?) signs (\w+) in with (his|her|their|a wrong) password asking for "([^"]*)" on the (.+)$`, passwordGrant)
}

// endpoint finds a discovery document member naming an endpoint.
func endpoint(ctx context.Context, member string) (string, error) {
	d, err := discover(ctx)
	if err != nil {
		return "", err
	}
	ep, _ := d[member].(string)
	if ep == "" {
		return "", fmt.Errorf("the discovery document has no %s", member)
	}
	return ep, nil
}

func userinfo(ctx context.Context, token string) error {
	w := worldOf(ctx)
	ep, err := endpoint(ctx, "userinfo_endpoint")
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodGet, ep, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w.apiReply, err = w.do(ctx, req)
	return err
}

func callsUserinfo(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	if w.accessToken == "" {
		return fmt.Errorf("%s has no access token (last token answer: %s)", clientAlias, w.tokenReply)
	}
	return userinfo(ctx, w.accessToken)
}

func callsUserinfoWithoutToken(ctx context.Context) error { return userinfo(ctx, "") }

func userinfoSub(ctx context.Context, userAlias string) error {
	want, err := userSubject(ctx, userAlias)
	if err != nil {
		return err
	}
	r := worldOf(ctx).apiReply
	if r == nil || r.status != 200 || r.json == nil {
		return fmt.Errorf("userinfo: expected HTTP 200 with a JSON object, got %s", r)
	}
	if r.json["sub"] != want {
		return fmt.Errorf("userinfo's sub: expected %q (%s), got %v", want, userAlias, r.json["sub"])
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") && !strings.Contains(cc, "private") {
		return fmt.Errorf("userinfo answers personal data: expected Cache-Control no-store or private, got %q", cc)
	}
	return nil
}

func userinfoStatus(ctx context.Context, status int) error {
	r := worldOf(ctx).apiReply
	if r == nil || r.status != status {
		return fmt.Errorf("userinfo: expected HTTP %d, got %s", status, r)
	}
	if status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		return fmt.Errorf("a 401 from userinfo must carry a Bearer challenge (RFC 6750 §3), got %q", r.header.Get("WWW-Authenticate"))
	}
	return nil
}

// userinfoRefuses: a token that is not the user's (an app's own, or one for another audience) is
// refused either as invalid for this resource (401 invalid_token) or as lacking openid (403
// insufficient_scope): RFC 6750 §3.1 allows either reading, OIDC Core §5.3.3 points there.
func userinfoRefuses(ctx context.Context) error {
	r := worldOf(ctx).apiReply
	if r == nil || (r.status != 401 && r.status != 403) {
		return fmt.Errorf("userinfo: expected HTTP 401 or 403, got %s", r)
	}
	return userinfoStatus(ctx, r.status)
}

// userinfoChallenges: a request without a token gets a refusal with a Bearer WWW-Authenticate
// (RFC 6750 §3: MUST); the status is 401 in the RFC's example, and 400 invalid_request is also
// RFC 6750 §3.1's answer to a malformed request.
func userinfoChallenges(ctx context.Context) error {
	r := worldOf(ctx).apiReply
	if r == nil || (r.status != 401 && r.status != 400) {
		return fmt.Errorf("userinfo without a token: expected HTTP 401 (or 400), got %s", r)
	}
	if !strings.HasPrefix(strings.ToLower(r.header.Get("WWW-Authenticate")), "bearer") {
		return fmt.Errorf("userinfo without a token must answer with a Bearer challenge (RFC 6750 §3), got %q", r.header.Get("WWW-Authenticate"))
	}
	return nil
}

// ownToken is the client's last access or refresh token.
func ownToken(ctx context.Context, clientAlias, kind string) (string, error) {
	w := worldOf(ctx)
	tok := w.accessToken
	if kind == "refresh" {
		tok = w.refreshToken
	}
	if tok == "" {
		return "", fmt.Errorf("%s holds no %s token", clientAlias, kind)
	}
	return tok, nil
}

func introspect(ctx context.Context, clientAlias, token, hint string) error {
	return postToken(ctx, "introspection_endpoint", clientAlias, token, hint)
}

// postToken sends a token, with its type hint, to an endpoint discovery names (introspection,
// revocation), authenticated as the client; the answer is kept.
func postToken(ctx context.Context, member, clientAlias, token, hint string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	ep, err := endpoint(ctx, member)
	if err != nil {
		return err
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	w.apiReply, err = clientPost(ctx, ep, c, c.ClientSecret, form)
	return err
}

func introspectsOwn(ctx context.Context, clientAlias, kind string) error {
	tok, err := ownToken(ctx, clientAlias, kind)
	if err != nil {
		return err
	}
	return introspect(ctx, clientAlias, tok, kind+"_token")
}

func introspectsUnknown(ctx context.Context, clientAlias string) error {
	return introspect(ctx, clientAlias, "never-issued-"+fmt.Sprint(len(clientAlias)), "")
}

func introspectsAnonymously(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	tok, err := tokenOf(ctx, clientAlias)
	if err != nil {
		return err
	}
	ep, err := endpoint(ctx, "introspection_endpoint")
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, ep, strings.NewReader(url.Values{"token": {tok}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w.apiReply, err = w.do(ctx, req)
	return err
}

func introspectionActive(ctx context.Context, clientAlias, scope string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	r := w.apiReply
	if r == nil || r.status != 200 || r.json == nil {
		return fmt.Errorf("introspection: expected HTTP 200 with a JSON object, got %s", r)
	}
	if r.json["active"] == false && !w.target.Dialect.IntrospectsOwnTokens {
		return notApplicable("the target answers active:false, which RFC 7662 §2.2 allows for a caller it does not let introspect the token; declare dialect.introspects_own_tokens to require a client's own live token to be active")
	}
	switch {
	case r.json["active"] != true:
		return fmt.Errorf("introspection: expected active true, got %s", r)
	case r.json["client_id"] != c.ClientID:
		return fmt.Errorf("introspection's client_id: expected %q (%s), got %v", c.ClientID, clientAlias, r.json["client_id"])
	case !sameScopes(fmt.Sprint(r.json["scope"]), w.target.ScopeString(scope)):
		return fmt.Errorf("introspection's scope: expected %q, got %v", scope, r.json["scope"])
	case r.json["exp"] == nil:
		return fmt.Errorf("introspection of an active token should say when it expires (exp): %s", r)
	}
	return nil
}

func introspectionInactive(ctx context.Context) error {
	r := worldOf(ctx).apiReply
	if r == nil || r.status != 200 || r.json == nil {
		return fmt.Errorf("introspection: expected HTTP 200 with a JSON object, got %s", r)
	}
	if r.json["active"] != false {
		return fmt.Errorf("introspection: expected active false, got %s", r)
	}
	if len(r.json) > 1 {
		return fmt.Errorf("introspection of an inactive token should reveal nothing else (RFC 7662 §2.2), got %s", r)
	}
	return nil
}

// introspectionNeedsClientAuth: RFC 7662 §2.1 requires authorization. Missing credentials are
// invalid_client (401, RFC 6749 §5.2) or a request missing a required parameter (400
// invalid_request): both are RFC 6749's answers.
func introspectionNeedsClientAuth(ctx context.Context) error {
	r := worldOf(ctx).apiReply
	if r == nil || !(r.status == 401 || (r.status == 400 && r.json != nil && (r.json["error"] == "invalid_request" || r.json["error"] == "invalid_client"))) {
		return fmt.Errorf("introspection without client authentication: expected HTTP 401, or 400 invalid_request, got %s", r)
	}
	if r.json != nil && r.json["active"] != nil {
		return fmt.Errorf("a refused introspection must not describe the token, got %s", r)
	}
	return nil
}

func revoke(ctx context.Context, clientAlias, token, hint string) error {
	return postToken(ctx, "revocation_endpoint", clientAlias, token, hint)
}

func revokesOwn(ctx context.Context, clientAlias, kind string) error {
	tok, err := ownToken(ctx, clientAlias, kind)
	if err != nil {
		return err
	}
	return revoke(ctx, clientAlias, tok, kind+"_token")
}

func revokesUnknown(ctx context.Context, clientAlias string) error {
	return revoke(ctx, clientAlias, "never-issued-token", "")
}

func revocationSucceeds(ctx context.Context) error {
	r := worldOf(ctx).apiReply
	if r == nil || r.status != 200 {
		return fmt.Errorf("revocation: expected HTTP 200 (RFC 7009 §2.2), got %s", r)
	}
	return nil
}

func passwordGrant(ctx context.Context, clientAlias, userAlias, whose, scopes, apiAlias string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	u, err := w.user(userAlias)
	if err != nil {
		return err
	}
	api, err := w.target.API(apiAlias)
	if err != nil {
		return err
	}
	password := u.Password
	if whose == "a wrong" {
		password = "wrong-" + password
	}
	form := w.target.AudienceParams(api)
	form.Set("grant_type", "password")
	form.Set("username", u.Username)
	form.Set("password", password)
	form.Set("scope", w.target.ScopeString(scopes))
	return requestToken(ctx, c, c.ClientSecret, form)
}

// sameScopes compares space-separated scope lists as sets.
func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	if len(x) != len(y) {
		return false
	}
	for _, s := range x {
		if !strings.Contains(" "+b+" ", " "+s+" ") {
			return false
		}
	}
	return true
}
