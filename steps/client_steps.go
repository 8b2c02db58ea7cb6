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
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Client certification (features/client): the target is the harness's own reference server, the
// partner's app is what is checked, and the server's request log is the evidence.
func clientSteps(sc *godog.ScenarioContext) {
	step(sc, `^the user has not yet enabled the app$`, userHasNotEnabled)
	step(sc, `^the user enables the integration(?: again)? and (allows|denies) it$`, enablesIntegration)
	step(sc, `^the user revokes the app's access$`, userRevokesApp)
	step(sc, `^the app shows that the integration is enabled$`, appShowsEnabled)
	step(sc, `^the app shows an error message$`, appShowsError)
	step(sc, `^the app is still up$`, appIsUp)
	step(sc, `^the app syncs in the background( after its access token expired)?$`, appSyncs)
	step(sc, `^the app syncs in the background (\d+) more times$`, appSyncsTimes)
	step(sc, `^the harness issues the app access tokens that live (\d+) seconds?$`, appTokenLifetime)
	step(sc, `^the harness gives the app ID tokens with (wrong-nonce|wrong-iss|wrong-aud|bad-signature)$`, appIDTokenFault)
	step(sc, `^the token endpoint answers the app's next (\d+) requests with (\d+)$`, tokenEndpointFails)
	step(sc, `^the app's authorization request asked for response_type "([^"]*)"$`, authzResponseType)
	step(sc, `^the app's authorization request used PKCE with S256$`, authzPKCE)
	step(sc, `^the app's authorization request used its registered redirect URI$`, authzRedirectURI)
	step(sc, `^the app's authorization request asked for offline_access if it syncs in the background$`, authzOfflineAccess)
	step(sc, `^the app's two authorization requests carried different unguessable states$`, authzStates)
	step(sc, `^the app redeemed its code exactly once$`, codeRedeemedOnce)
	step(sc, `^the app authenticated to the token endpoint with its client secret$`, appAuthenticated)
	step(sc, `^the app sent the code_verifier with the code$`, appSentVerifier)
	step(sc, `^the app called the API$`, appCalledAPI)
	step(sc, `^the app did not call the API$`, appDidNotCallAPI)
	step(sc, `^every API call of the app carried its token in the Authorization header$`, apiCallsUseHeader)
	step(sc, `^no API call of the app was refused$`, noAPICallRefused)
	step(sc, `^the app refreshed its token at least twice$`, appRefreshedTwice)
	step(sc, `^every refresh of the app was accepted$`, everyRefreshAccepted)
	step(sc, `^the app's refresh was refused with "([^"]*)"$`, refreshRefused)
	step(sc, `^the app made at most (\d+) more token requests? after that refusal$`, atMostMoreTokenRequests)
	step(sc, `^the app retried the token request with back-off$`, retriedWithBackoff)
	step(sc, `^the token endpoint answers the app's next request after (\d+) seconds?$`, tokenEndpointSlow)
	step(sc, `^the app's code redemption succeeded$`, codeRedemptionSucceeded)
}

// partnerOf is the app under certification, or an error for a run without one.
func partnerOf(ctx context.Context) (*target.Partner, error) {
	if p := worldOf(ctx).partner; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("this step certifies a partner's app: run it with oauth-harness certify-client")
}

func userHasNotEnabled(ctx context.Context) error {
	p, err := partnerOf(ctx)
	if err != nil {
		return err
	}
	return revokeConsent(ctx, p.User, p.Name)
}

func userRevokesApp(ctx context.Context) error { return userHasNotEnabled(ctx) }

// enablesIntegration opens the app's start page and goes through login and consent as the user,
// until the app shows that the integration works, or an error.
func enablesIntegration(ctx context.Context, decision string) (context.Context, error) {
	w := worldOf(ctx)
	p, err := partnerOf(ctx)
	if err != nil {
		return ctx, err
	}
	tab, err := w.ensureTab()
	if err != nil {
		return ctx, err
	}
	u, err := w.user(p.User)
	if err != nil {
		return ctx, err
	}
	if err := tab.Navigate(p.StartURL); err != nil {
		return ctx, fmt.Errorf("the app's start page: %w", err)
	}
	sel := w.target.Selectors
	w.appOutcome = ""
	pages := []string{sel.Login.Username, sel.Consent.Page, p.EnabledSelector, p.ErrorSelector}
	for range 4 {
		if err := tab.WaitVisible(strings.Join(pages, ", ")); err != nil {
			where, _ := tab.URL()
			return w.screenshot(ctx, "app-page.png"), fmt.Errorf("neither the login page, the consent page, nor the app's %q or %q came up (at %s): %w",
				p.EnabledSelector, p.ErrorSelector, where, err)
		}
		switch {
		case visible(tab.Visible(sel.Login.Username)):
			if err := tab.Fill(sel.Login.Username, u.Username); err != nil {
				return ctx, err
			}
			if err := tab.Fill(sel.Login.Password, u.Password); err != nil {
				return ctx, err
			}
			if err := tab.Click(sel.Login.Submit); err != nil {
				return ctx, err
			}
		case visible(tab.Visible(sel.Consent.Page)):
			ctx = w.screenshot(ctx, "consent-page.png")
			button := sel.Consent.Allow
			if decision == "denies" {
				button = sel.Consent.Deny
			}
			if err := tab.Click(button); err != nil {
				return ctx, err
			}
		case visible(tab.Visible(p.EnabledSelector)):
			w.appOutcome = "enabled"
			return w.screenshot(ctx, "app-page.png"), nil
		default:
			w.appOutcome, _ = tab.Text(p.ErrorSelector)
			if w.appOutcome == "" {
				w.appOutcome = "(an empty error message)"
			}
			w.appError = true
			return w.screenshot(ctx, "app-page.png"), nil
		}
	}
	return ctx, fmt.Errorf("the interaction did not end on the app's page")
}

func visible(ok bool, err error) bool { return ok && err == nil }

func appShowsEnabled(ctx context.Context) error {
	w := worldOf(ctx)
	if w.appOutcome != "enabled" {
		return fmt.Errorf("expected the app to show %q, it showed %q", w.partner.EnabledSelector, w.appOutcome)
	}
	return nil
}

func appShowsError(ctx context.Context) error {
	w := worldOf(ctx)
	if !w.appError {
		return fmt.Errorf("expected the app to show an error (%q), it showed %q", w.partner.ErrorSelector, w.appOutcome)
	}
	return nil
}

func appIsUp(ctx context.Context) error {
	w := worldOf(ctx)
	r, err := w.get(ctx, w.partner.StartURL)
	if err != nil {
		return fmt.Errorf("the app no longer answers: %w", err)
	}
	if r.status >= 500 {
		return fmt.Errorf("the app's start page answers %s", r)
	}
	return nil
}

// appSyncs triggers one background sync; after an expiry it first waits for the access token to expire.
func appSyncs(ctx context.Context, afterExpiry string) error {
	w := worldOf(ctx)
	if w.partner == nil || w.partner.Sync == nil {
		return fmt.Errorf("the partner profile declares no background_sync")
	}
	if afterExpiry != "" {
		if w.appTokenLife == 0 {
			return fmt.Errorf("no shorter token lifetime was set: add \"the harness issues the app access tokens that live 1 second\"")
		}
		select { // waiting for a clock, not for a page: the token must really be expired
		case <-time.After(w.appTokenLife + 200*time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	req, err := http.NewRequest(w.partner.Sync.Method, w.partner.Sync.URL, nil)
	if err != nil {
		return err
	}
	r, err := w.do(ctx, req)
	if err != nil {
		return fmt.Errorf("the app's background sync: %w", err)
	}
	w.syncReplies = append(w.syncReplies, r)
	return nil
}

func appSyncsTimes(ctx context.Context, n int) error {
	for range n {
		if err := appSyncs(ctx, ""); err != nil {
			return err
		}
	}
	return nil
}

func appTokenLifetime(ctx context.Context, seconds int) error {
	w := worldOf(ctx)
	p, err := partnerOf(ctx)
	if err != nil {
		return err
	}
	w.appTokenLife = time.Duration(seconds) * time.Second
	return tokenFault(ctx, p.Name, map[string]any{"access_token_lifetime": w.appTokenLife.String()})
}

func appIDTokenFault(ctx context.Context, fault string) error {
	p, err := partnerOf(ctx)
	if err != nil {
		return err
	}
	return tokenFault(ctx, p.Name, map[string]any{"id_token": fault})
}

func tokenEndpointFails(ctx context.Context, n, status int) error {
	return tokenEndpointRule(ctx, map[string]any{"error_rate": 1, "status": status, "times": n})
}

func tokenEndpointSlow(ctx context.Context, seconds int) error {
	return tokenEndpointRule(ctx, map[string]any{"latency": fmt.Sprintf("%ds", seconds), "times": 1})
}

// tokenEndpointRule sets a fault rule on the token endpoint for the app, undone after the scenario.
func tokenEndpointRule(ctx context.Context, rule map[string]any) error {
	w := worldOf(ctx)
	p, err := partnerOf(ctx)
	if err != nil {
		return err
	}
	rule["path"], rule["client_id"] = "/token", p.ClientID
	if _, err := admin(ctx, http.MethodPut, "/faults", map[string]any{"rules": []any{rule}}); err != nil {
		return err
	}
	w.cleanups = append(w.cleanups, func(ctx context.Context) error {
		_, err := admin(ctx, http.MethodPut, "/faults", map[string]any{})
		return err
	})
	return nil
}

// logged reads the request log since the scenario began, keeping the entries keep accepts, and
// attaches them to the step as its evidence.
func logged(ctx context.Context, what string, keep func(*requestlog.Entry) bool) (context.Context, []requestlog.Entry, error) {
	w := worldOf(ctx)
	r, err := admin(ctx, http.MethodGet, "/requests?"+url.Values{"since": {w.began.UTC().Format(time.RFC3339Nano)}}.Encode(), nil)
	if err != nil {
		return ctx, nil, err
	}
	var all []requestlog.Entry
	if err := json.Unmarshal(r.body, &all); err != nil {
		return ctx, nil, fmt.Errorf("the request log: %w", err)
	}
	var out []requestlog.Entry
	for i := range all {
		if keep(&all[i]) {
			out = append(out, all[i])
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	ctx = godog.Attach(ctx, godog.Attachment{Body: b, FileName: "evidence-" + what + ".json", MediaType: "application/json"})
	return ctx, out, nil
}

func isAuthorize(e *requestlog.Entry) bool { return strings.HasSuffix(e.Path, "/authorize") }
func isToken(e *requestlog.Entry) bool     { return strings.HasSuffix(e.Path, "/token") }
func isAPI(e *requestlog.Entry) bool       { return strings.Contains(e.Path, "/api/") }

// authorizations are the app's authorization requests in the scenario (at least one).
func authorizations(ctx context.Context) (context.Context, []requestlog.Entry, error) {
	p, err := partnerOf(ctx)
	if err != nil {
		return ctx, nil, err
	}
	ctx, es, err := logged(ctx, "authorization-requests", func(e *requestlog.Entry) bool {
		return isAuthorize(e) && e.ClientID == p.ClientID
	})
	if err == nil && len(es) == 0 {
		err = fmt.Errorf("the app sent no authorization request")
	}
	return ctx, es, err
}

func eachAuthorization(ctx context.Context, check func(e requestlog.Entry) error) (context.Context, error) {
	ctx, es, err := authorizations(ctx)
	if err != nil {
		return ctx, err
	}
	for _, e := range es {
		if err := check(e); err != nil {
			return ctx, err
		}
	}
	return ctx, nil
}

func authzResponseType(ctx context.Context, want string) (context.Context, error) {
	return eachAuthorization(ctx, func(e requestlog.Entry) error {
		if e.ResponseType != want {
			return fmt.Errorf("the app's authorization request asked for response_type %q, expected %q", e.ResponseType, want)
		}
		return nil
	})
}

// authzPKCE: the server refuses any challenge method but S256, so a challenge in a request that
// was not refused is an S256 one.
func authzPKCE(ctx context.Context) (context.Context, error) {
	return eachAuthorization(ctx, func(e requestlog.Entry) error {
		switch {
		case e.PKCE == nil || !*e.PKCE:
			return fmt.Errorf("the app's authorization request carried no code_challenge (PKCE, RFC 7636 and RFC 9700 §2.1.1)")
		case e.Error == "invalid_request":
			return fmt.Errorf("the app's PKCE challenge was refused (not S256?)")
		}
		return nil
	})
}

func authzRedirectURI(ctx context.Context) (context.Context, error) {
	p := worldOf(ctx).partner
	return eachAuthorization(ctx, func(e requestlog.Entry) error {
		if e.RedirectURI != p.RedirectURI {
			return fmt.Errorf("the app's redirect_uri is %q, expected the registered %q", e.RedirectURI, p.RedirectURI)
		}
		return nil
	})
}

func authzOfflineAccess(ctx context.Context) (context.Context, error) {
	p := worldOf(ctx).partner
	return eachAuthorization(ctx, func(e requestlog.Entry) error {
		asked := slices.Contains(strings.Fields(e.Scope), "offline_access")
		if p.Sync != nil && !asked {
			return fmt.Errorf("the app syncs in the background but asked for %q, without offline_access: it will get no refresh token", e.Scope)
		}
		return nil
	})
}

func authzStates(ctx context.Context) (context.Context, error) {
	ctx, es, err := authorizations(ctx)
	if err != nil {
		return ctx, err
	}
	if len(es) < 2 {
		return ctx, fmt.Errorf("expected two authorization requests, the app sent %d", len(es))
	}
	seen := map[string]bool{}
	for _, e := range es {
		switch {
		case len(e.State) < 16:
			return ctx, fmt.Errorf("the state %q is too short to be unguessable (at least 16 characters, about 96 bits, expected)", e.State)
		case seen[e.State]:
			return ctx, fmt.Errorf("the app sent the same state %q twice: a fixed state does not protect against CSRF (RFC 6749 §10.12)", e.State)
		}
		seen[e.State] = true
	}
	return ctx, nil
}

func tokenRequests(ctx context.Context, what string, grant string) (context.Context, []requestlog.Entry, error) {
	return logged(ctx, what, func(e *requestlog.Entry) bool {
		// 5xx answered by a fault never reach the handler, so they carry no grant: keep them too.
		return isToken(e) && (grant == "" || e.GrantType == grant || e.GrantType == "" && e.Status >= 500)
	})
}

func codeRedeemedOnce(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "code-redemptions", "authorization_code")
	if err != nil {
		return ctx, err
	}
	if len(es) != 1 {
		return ctx, fmt.Errorf("the app redeemed its code %d times, expected once", len(es))
	}
	if es[0].Status != 200 {
		return ctx, fmt.Errorf("the app's code redemption was refused (HTTP %d, %s)", es[0].Status, es[0].Error)
	}
	return ctx, nil
}

func appAuthenticated(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "code-redemptions", "authorization_code")
	if err != nil {
		return ctx, err
	}
	if len(es) == 0 {
		return ctx, fmt.Errorf("the app made no token request")
	}
	for _, e := range es {
		if e.AuthMethod != "client_secret_basic" && e.AuthMethod != "client_secret_post" || e.Error == "invalid_client" {
			return ctx, fmt.Errorf("the app's token request authenticated with %q (error %q), expected its client secret", e.AuthMethod, e.Error)
		}
	}
	return ctx, nil
}

func appSentVerifier(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "code-redemptions", "authorization_code")
	if err != nil {
		return ctx, err
	}
	if len(es) == 0 {
		return ctx, fmt.Errorf("the app made no token request")
	}
	for _, e := range es {
		if e.PKCE == nil || !*e.PKCE {
			return ctx, fmt.Errorf("the app redeemed its code without a code_verifier")
		}
	}
	return ctx, nil
}

func apiCalls(ctx context.Context) (context.Context, []requestlog.Entry, error) {
	return logged(ctx, "api-calls", isAPI)
}

func appCalledAPI(ctx context.Context) (context.Context, error) {
	ctx, es, err := apiCalls(ctx)
	if err == nil && len(es) == 0 {
		err = fmt.Errorf("the app made no API call")
	}
	return ctx, err
}

func appDidNotCallAPI(ctx context.Context) (context.Context, error) {
	ctx, es, err := apiCalls(ctx)
	if err == nil && len(es) > 0 {
		err = fmt.Errorf("the app called the API %d times with tokens it should have rejected", len(es))
	}
	return ctx, err
}

func apiCallsUseHeader(ctx context.Context) (context.Context, error) {
	ctx, es, err := apiCalls(ctx)
	if err != nil {
		return ctx, err
	}
	if len(es) == 0 {
		return ctx, fmt.Errorf("the app made no API call")
	}
	for _, e := range es {
		if e.Bearer != requestlog.BearerHeader {
			return ctx, fmt.Errorf("the app's call %s %s carried its token in the %s, not the Authorization header (RFC 9700 §4.3.2)", e.Method, e.Path, orNone(e.Bearer))
		}
	}
	return ctx, nil
}

func orNone(s string) string {
	if s == "" {
		return "nowhere"
	}
	return s
}

func noAPICallRefused(ctx context.Context) (context.Context, error) {
	ctx, es, err := apiCalls(ctx)
	if err != nil {
		return ctx, err
	}
	for _, e := range es {
		if e.Status >= 400 {
			return ctx, fmt.Errorf("the API refused the app's call %s %s: HTTP %d %s (outside its scopes, its user's account, or an expired token?)",
				e.Method, e.Path, e.Status, e.Error)
		}
	}
	return ctx, nil
}

func appRefreshedTwice(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "refreshes", "refresh_token")
	if err == nil && len(es) < 2 {
		err = fmt.Errorf("the app refreshed %d times, expected at least 2 (its access tokens expired before each sync)", len(es))
	}
	return ctx, err
}

func everyRefreshAccepted(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "refreshes", "refresh_token")
	if err != nil {
		return ctx, err
	}
	for _, e := range es {
		if e.Status != 200 {
			return ctx, fmt.Errorf("a refresh of the app was refused: HTTP %d %s (a reused, rotated refresh token?)", e.Status, e.Error)
		}
	}
	return ctx, nil
}

func refreshRefused(ctx context.Context, code string) (context.Context, error) {
	w := worldOf(ctx)
	ctx, es, err := tokenRequests(ctx, "refreshes", "refresh_token")
	if err != nil {
		return ctx, err
	}
	for _, e := range es {
		if e.Error == code {
			w.refusedAt = e.Time
			return ctx, nil
		}
	}
	return ctx, fmt.Errorf("no refresh of the app was refused with %q (it made %d refreshes)", code, len(es))
}

func atMostMoreTokenRequests(ctx context.Context, n int) (context.Context, error) {
	w := worldOf(ctx)
	if w.refusedAt.IsZero() {
		return ctx, fmt.Errorf("no refusal was seen before this step")
	}
	ctx, es, err := logged(ctx, "token-requests-after-refusal", func(e *requestlog.Entry) bool {
		return isToken(e) && e.Time.After(w.refusedAt)
	})
	if err == nil && len(es) > n {
		err = fmt.Errorf("after its refresh was refused, the app made %d more token requests (at most %d expected): it should stop and ask the user to reconnect", len(es), n)
	}
	return ctx, err
}

func retriedWithBackoff(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "code-redemptions", "authorization_code")
	if err != nil {
		return ctx, err
	}
	if len(es) < 3 || es[0].Status < 500 || es[1].Status < 500 || es[len(es)-1].Status != 200 {
		var got []string
		for _, e := range es {
			got = append(got, fmt.Sprint(e.Status))
		}
		return ctx, fmt.Errorf("expected two failed token requests then a successful retry, got statuses %v", got)
	}
	// Back-off: a pause before each retry that does not shrink (an app honouring the server's
	// Retry-After may wait the same time twice); 10% slack for jitter.
	first, second := es[1].Time.Sub(es[0].Time), es[2].Time.Sub(es[1].Time)
	if first < 50*time.Millisecond || second < first*9/10 {
		return ctx, fmt.Errorf("the app retried after %s then %s: expected pauses of 50 ms or more that do not shrink", first.Round(time.Millisecond), second.Round(time.Millisecond))
	}
	return ctx, nil
}

func codeRedemptionSucceeded(ctx context.Context) (context.Context, error) {
	ctx, es, err := tokenRequests(ctx, "code-redemptions", "authorization_code")
	if err != nil {
		return ctx, err
	}
	for _, e := range es {
		if e.Status == 200 && e.GrantType == "authorization_code" {
			return ctx, nil
		}
	}
	return ctx, fmt.Errorf("none of the app's %d code redemptions succeeded", len(es))
}
