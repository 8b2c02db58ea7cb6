package steps

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/cucumber/godog"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

func codeSteps(sc *godog.ScenarioContext) {
	step(sc, `^(.+?) exchanges the code for tokens(?: with (a wrong code_verifier|a code_verifier))?$`, exchangesCode)
	step(sc, `^(.+?) exchanges the same code again$`, exchangesAgain)
	step(sc, `^(.+?) exchanges (.+?)'s code for tokens$`, exchangesOthersCode)
	step(sc, `^the access token from the first exchange no longer reads account "([^"]*)"$`, firstTokenRevoked)
	step(sc, `^(.+?) redeems the code in (\d+) requests at once$`, redeemsAtOnce)
	step(sc, `^at most one of them succeeds and the others are refused with "([^"]*)"$`, atMostOneSucceeds)
	step(sc, `^(.+?) sends an authorization request for "([^"]*)" on the (.+?)(?: (without PKCE|with code_challenge_method plain|without a nonce|with its redirect URI followed by "[^"]*"|with the redirect URI "[^"]*"))?$`, sendsAuthorizationRequest)
	step(sc, `^(.+?) sends an implicit authorization request for "([^"]*)" on the (.+?) without a nonce$`, sendsImplicitWithoutNonce)
	step(sc, `^the authorization server answers with its error page and no redirect$`, answersErrorPage)
	step(sc, `^the (access|ID) token's sub is (\w+)$`, subIsUser)
	step(sc, `^the ID token's (aud|azp) is the client id of (.+)$`, idTokenAudIsClient)
	step(sc, `^the ID token's iss is the target's issuer$`, idTokenIss)
	step(sc, `^the ID token's nonce is the one (.+?) sent$`, idTokenNonce)
	step(sc, `^the ID token's at_hash(, when it has one,)? matches the access token$`, idTokenAtHash)
	step(sc, `^the ID token's signature verifies with the JWKS key named by its kid$`, idTokenSignature)
}

// exchange redeems code at the token endpoint as clientAlias, with verifier (none when empty).
func exchange(ctx context.Context, clientAlias, code, redirectURI, verifier string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return requestToken(ctx, c, c.ClientSecret, form)
}

// codeOf is the code of the flow in progress, which clientAlias must have started.
func codeOf(ctx context.Context, clientAlias string) (*authFlow, error) {
	if err := receivesCode(ctx, clientAlias); err != nil {
		return nil, err
	}
	return worldOf(ctx).flow, nil
}

func exchangesCode(ctx context.Context, clientAlias, variant string) error {
	f, err := codeOf(ctx, clientAlias)
	if err != nil {
		return err
	}
	verifier := f.verifier
	switch variant {
	case "a wrong code_verifier":
		verifier = tokens.Random(32)
	case "a code_verifier": // a verifier for a code whose request had no challenge: the PKCE downgrade
		if f.verifier != "" {
			return fmt.Errorf("the authorization request carried a code_challenge: use \"without PKCE\" to test a downgrade")
		}
		verifier = tokens.Random(32)
	}
	return exchange(ctx, clientAlias, f.code, f.redirectURI, verifier)
}

func exchangesAgain(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	if w.tokenReply == nil || w.flow == nil || w.flow.code == "" {
		return fmt.Errorf("no code was exchanged yet")
	}
	w.tokens["first exchange"] = w.accessToken
	return exchange(ctx, clientAlias, w.flow.code, w.flow.redirectURI, w.flow.verifier)
}

// firstTokenRevoked: after a code replay, what the code gave is revoked (RFC 6749 §4.1.2 SHOULD).
func firstTokenRevoked(ctx context.Context, account string) error {
	tok := worldOf(ctx).tokens["first exchange"]
	if tok == "" {
		return fmt.Errorf("the first exchange gave no access token")
	}
	u, err := contactsURL(ctx, account)
	if err != nil {
		return err
	}
	if err := callAPI(ctx, "GET", u, tok, nil); err != nil {
		return err
	}
	return apiAnswersWithError(ctx, 401, "invalid_token")
}

// exchangesOthersCode: clientAlias redeems the code issued to owner (a stolen or mixed-up code).
func exchangesOthersCode(ctx context.Context, clientAlias, owner string) error {
	f, err := codeOf(ctx, owner)
	if err != nil {
		return err
	}
	return exchange(ctx, clientAlias, f.code, f.redirectURI, f.verifier)
}

// redeemsAtOnce sends n identical redemptions of the code at the same moment.
func redeemsAtOnce(ctx context.Context, clientAlias string, n int) error {
	f, err := codeOf(ctx, clientAlias)
	if err != nil {
		return err
	}
	c, err := worldOf(ctx).app(clientAlias)
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {f.redirectURI}}
	if f.verifier != "" {
		form.Set("code_verifier", f.verifier)
	}
	return atOnce(ctx, n, func(ctx context.Context) (*reply, error) { return tokenRequest(ctx, c, c.ClientSecret, form) })
}

// atOnce runs send n times, all released at the same moment, and keeps every answer.
func atOnce(ctx context.Context, n int, send func(context.Context) (*reply, error)) error {
	if n < 2 || n > 50 {
		return fmt.Errorf("send between 2 and 50 requests at once, not %d", n)
	}
	w := worldOf(ctx)
	replies, errs := make([]*reply, n), make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			replies[i], errs[i] = send(ctx)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	w.replies = replies
	return nil
}

// atMostOneSucceeds: a race may also end with none succeeding, when the server sees the replay
// and revokes the grant before the first redemption finished; both are safe.
func atMostOneSucceeds(ctx context.Context, code string) error {
	w := worldOf(ctx)
	if len(w.replies) == 0 {
		return fmt.Errorf("no requests were sent at once")
	}
	var ok []*reply
	var other []string
	for _, r := range w.replies {
		switch {
		case r.status == 200:
			ok = append(ok, r)
		case r.json == nil || r.json["error"] != code:
			other = append(other, r.String())
		}
	}
	if len(ok) > 1 && w.unrotatedRefresh != "" {
		rotated := false
		for _, r := range ok {
			if rt, _ := r.json["refresh_token"].(string); rt != "" && rt != w.unrotatedRefresh {
				rotated = true
			}
		}
		if !rotated {
			return notApplicable("the target does not rotate this confidential client's refresh tokens, so several redemptions may all succeed (RFC 9700 §4.14.2 asks rotation of public clients only; declare dialect.refresh_token_rotation: all to check it)")
		}
	}
	if len(ok) > 1 {
		var all []string
		for _, r := range w.replies {
			all = append(all, r.String())
		}
		return fmt.Errorf("%d of %d requests sent at once succeeded, expected at most one; the answers: %s", len(ok), len(w.replies), strings.Join(all, "; "))
	}
	if len(other) > 0 {
		return fmt.Errorf("the requests that failed should say %q; got %s", code, strings.Join(other, "; "))
	}
	return nil
}

// sendsAuthorizationRequest sends the authorization request without a browser: it checks what the
// server does before anyone logs in (a refusal at the redirect URI, or its own error page).
func sendsAuthorizationRequest(ctx context.Context, clientAlias, scopes, apiAlias, variant string) error {
	w := worldOf(ctx)
	f, err := w.newFlow(clientAlias, scopes, apiAlias, variant != "without PKCE")
	if err != nil {
		return err
	}
	extra := url.Values{}
	switch {
	case variant == "with code_challenge_method plain":
		f.verifier = ""
		extra.Set("code_challenge", tokens.Random(32))
		extra.Set("code_challenge_method", "plain")
	case variant == "without a nonce":
		extra.Set("nonce", "")
	case strings.HasPrefix(variant, "with its redirect URI followed by "):
		f.redirectURI += strings.Trim(strings.TrimPrefix(variant, "with its redirect URI followed by "), `"`)
	case strings.HasPrefix(variant, "with the redirect URI "):
		f.redirectURI = strings.Trim(strings.TrimPrefix(variant, "with the redirect URI "), `"`)
	}
	return w.sendAuthorization(ctx, f, "code", extra)
}

func sendsImplicitWithoutNonce(ctx context.Context, clientAlias, scopes, apiAlias string) error {
	w := worldOf(ctx)
	f, err := w.newFlow(clientAlias, scopes, apiAlias, false)
	if err != nil {
		return err
	}
	return w.sendAuthorization(ctx, f, "id_token token", url.Values{"nonce": {""}})
}

// sendAuthorization GETs the authorization URL and follows the provider's own redirects (to its
// origins: the issuer's, the authorization endpoint's and the profile's dialect.origins) until the
// answer lands: at the client's redirect URI (the authorization response), on a page of the
// provider (its login page: the request was accepted; or its error page), or anywhere else, which
// a client's browser must never be sent to.
func (w *world) sendAuthorization(ctx context.Context, f *authFlow, responseType string, extra url.Values) error {
	u, err := w.authorizeURL(ctx, f, responseType, extra)
	if err != nil {
		return err
	}
	d, _ := discover(ctx)
	ep, _ := d["authorization_endpoint"].(string)
	origins := w.target.ProviderOrigins(ep)
	for hop := 0; ; hop++ {
		r, err := w.get(ctx, u)
		if err != nil {
			return err
		}
		w.apiReply = r // kept for the error-page step
		loc := r.header.Get("Location")
		if loc == "" || r.status < 300 || r.status > 399 {
			if r.status == 200 {
				f.loginShown = true // the provider's own page: the request was accepted, for now
			}
			return nil
		}
		next, err := url.Parse(u)
		if err == nil {
			next, err = next.Parse(loc)
		}
		if err != nil {
			return fmt.Errorf("the authorization server redirected to %q, which does not parse: %w", loc, err)
		}
		if strings.HasPrefix(next.String(), callbackPrefix(f.redirectURI)) {
			f.response = next
			f.code = f.params().Get("code")
			return nil
		}
		if !slices.Contains(origins, next.Scheme+"://"+next.Host) {
			f.response = next // sent somewhere that is neither the provider nor this client's redirect URI
			return nil
		}
		if hop == 5 {
			return fmt.Errorf("the authorization server redirected more than 5 times within its own pages (last: %s)", next)
		}
		u = next.String()
	}
}

func answersErrorPage(ctx context.Context) error {
	w := worldOf(ctx)
	r := w.apiReply
	if w.flow == nil || r == nil {
		return fmt.Errorf("no authorization request was sent")
	}
	if f := w.flow; f.response != nil {
		return fmt.Errorf("expected an error page and no redirect, got a redirect to %s", f.response)
	}
	if loc := r.header.Get("Location"); loc != "" {
		return fmt.Errorf("expected an error page and no redirect, got HTTP %d to %s", r.status, loc)
	}
	if r.status < 400 || r.status > 499 {
		return fmt.Errorf("expected a 4xx error page, got %s", r)
	}
	return nil
}

// userSubject is the sub the target gives a user.
func userSubject(ctx context.Context, userAlias string) (string, error) {
	u, err := worldOf(ctx).user(userAlias)
	if err != nil {
		return "", err
	}
	if u.Subject == "" {
		return "", fmt.Errorf("the target profile gives no subject for %s, so the sub cannot be checked", userAlias)
	}
	return u.Subject, nil
}

func subIsUser(ctx context.Context, which, userAlias string) error {
	want, err := userSubject(ctx, userAlias)
	if err != nil {
		return err
	}
	kind, tok := "access token", worldOf(ctx).accessToken
	if which == "ID" {
		kind, tok = "ID token", worldOf(ctx).idToken
	}
	_, cl, err := decoded(ctx, kind, tok)
	if err != nil {
		return err
	}
	if cl["sub"] != want {
		return fmt.Errorf("the %s's sub: expected %q (%s), got %v", kind, want, userAlias, cl["sub"])
	}
	return nil
}

// decoded decodes a token a step checks, and notes it for the report.
func decoded(ctx context.Context, kind, token string) (map[string]any, map[string]any, error) {
	w := worldOf(ctx)
	if token == "" {
		return nil, nil, fmt.Errorf("there is no %s to check (last token answer: %s)", kind, w.tokenReply)
	}
	w.noteToken(kind, token)
	h, c, err := jwtParts(token)
	if err != nil {
		return nil, nil, fmt.Errorf("the %s: %w", kind, err)
	}
	return h, c, nil
}

func idClaims(ctx context.Context) (map[string]any, error) {
	_, c, err := decoded(ctx, "ID token", worldOf(ctx).idToken)
	return c, err
}

func idTokenAudIsClient(ctx context.Context, claim, clientAlias string) error {
	c, err := worldOf(ctx).app(clientAlias)
	if err != nil {
		return err
	}
	cl, err := idClaims(ctx)
	if err != nil {
		return err
	}
	ok := cl[claim] == c.ClientID
	if list, isList := cl[claim].([]any); isList {
		ok = slices.Contains(list, any(c.ClientID))
	}
	if !ok {
		return fmt.Errorf("the ID token's %s: expected %q (the client id of %s), got %v", claim, c.ClientID, clientAlias, cl[claim])
	}
	return nil
}

func idTokenIss(ctx context.Context) error {
	cl, err := idClaims(ctx)
	if err != nil {
		return err
	}
	if want := worldOf(ctx).target.Issuer; cl["iss"] != want {
		return fmt.Errorf("the ID token's iss: expected %q, got %v", want, cl["iss"])
	}
	return nil
}

func idTokenNonce(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	if w.flow == nil || w.flow.client.ClientID == "" {
		return fmt.Errorf("%s made no authorization request", clientAlias)
	}
	cl, err := idClaims(ctx)
	if err != nil {
		return err
	}
	if cl["nonce"] != w.flow.nonce {
		return fmt.Errorf("the ID token's nonce: expected %q (what %s sent), got %v", w.flow.nonce, clientAlias, cl["nonce"])
	}
	return nil
}

// idTokenAtHash checks OIDC Core §3.1.3.6: the left half of the access token's hash, base64url,
// with the hash of the ID token's alg. required: the implicit flow's ID token must carry it
// (§3.2.2.10); the code flow's token endpoint may leave it out (§3.1.3.6: OPTIONAL).
func idTokenAtHash(ctx context.Context, optional string) error {
	w := worldOf(ctx)
	h, cl, err := decoded(ctx, "ID token", w.idToken)
	if err != nil {
		return err
	}
	got, present := cl["at_hash"]
	if !present {
		if optional != "" {
			return nil // the step says "when it has one"
		}
		return fmt.Errorf("the ID token has no at_hash, which OIDC Core §3.2.2.10 requires alongside an access token")
	}
	alg, _ := h["alg"].(string)
	var sum []byte
	switch {
	case strings.HasSuffix(alg, "256"):
		s := sha256.Sum256([]byte(w.accessToken))
		sum = s[:]
	case strings.HasSuffix(alg, "384"):
		s := sha512.Sum384([]byte(w.accessToken))
		sum = s[:]
	case strings.HasSuffix(alg, "512"), alg == "EdDSA": // Ed25519 hashes with SHA-512
		s := sha512.Sum512([]byte(w.accessToken))
		sum = s[:]
	default:
		return fmt.Errorf("the ID token's alg %q has no hash the harness knows for at_hash", alg)
	}
	if want := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]); got != want {
		return fmt.Errorf("the ID token's at_hash: expected %q for the access token, got %v", want, got)
	}
	return nil
}

func idTokenSignature(ctx context.Context) error {
	w := worldOf(ctx)
	return verifyWithJWKS(ctx, "ID token", w.idToken)
}
