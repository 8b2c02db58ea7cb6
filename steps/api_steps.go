package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
)

func apiSteps(sc *godog.ScenarioContext) {
	step(sc, `^([A-Z].*?) reads the contacts of account "([^"]*)"$`, readsContacts)
	step(sc, `^([A-Z].*?) reads the contacts of account "([^"]*)" with the token in the query string$`, readsContactsWithQueryToken)
	step(sc, `^someone reads the contacts of account "([^"]*)" without a token$`, readsContactsWithoutToken)
	step(sc, `^([A-Z].*?) adds a contact to account "([^"]*)"$`, addsContact)
	step(sc, `^someone calls the protected resource with (the token .+)$`, callsWithForgery)
	step(sc, `^([A-Z].*?) calls the protected resource( with the token in the query string)?$`, callsProtected)
	step(sc, `^someone calls the protected resource without a token$`, callsProtectedWithoutToken)
	step(sc, `^the API answers (\d+)$`, apiAnswers)
	step(sc, `^the API answers (\d+) with error "([^"]*)"$`, apiAnswersWithError)
	step(sc, `^the API's challenge names the scope "([^"]*)"$`, challengeNamesScope)
	step(sc, `^the API refuses the request$`, apiRefuses)
}

func contactsURL(ctx context.Context, account string) (string, error) {
	base := worldOf(ctx).target.APIBaseURL
	if base == "" {
		return "", fmt.Errorf("the target profile has no api_base_url")
	}
	return strings.TrimSuffix(base, "/") + "/accounts/" + url.PathEscape(account) + "/contacts", nil
}

// callAPI sends method to u with the bearer token (none when empty) and keeps the answer.
func callAPI(ctx context.Context, method, u, token string, body any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := worldOf(ctx)
	w.apiReply, err = w.do(ctx, req)
	return err
}

// tokenOf is the access token the client got last in this scenario.
func tokenOf(ctx context.Context, clientAlias string) (string, error) {
	w := worldOf(ctx)
	t := w.tokens[clientAlias]
	if c, err := w.app(clientAlias); t == "" && err == nil {
		t = w.tokens["id:"+c.ClientID]
	}
	if t == "" {
		return "", fmt.Errorf("%s has no access token yet: add a step that gets one", clientAlias)
	}
	return t, nil
}

// clientsContacts finds the client's token and the contacts URL of the account.
func clientsContacts(ctx context.Context, clientAlias, account string) (tok, u string, err error) {
	if tok, err = tokenOf(ctx, clientAlias); err != nil {
		return "", "", err
	}
	u, err = contactsURL(ctx, account)
	return tok, u, err
}

func readsContacts(ctx context.Context, clientAlias, account string) error {
	tok, u, err := clientsContacts(ctx, clientAlias, account)
	if err != nil {
		return err
	}
	return callAPI(ctx, http.MethodGet, u, tok, nil)
}

func readsContactsWithQueryToken(ctx context.Context, clientAlias, account string) error {
	tok, u, err := clientsContacts(ctx, clientAlias, account)
	if err != nil {
		return err
	}
	return callAPI(ctx, http.MethodGet, u+"?access_token="+url.QueryEscape(tok), "", nil)
}

func readsContactsWithoutToken(ctx context.Context, account string) error {
	u, err := contactsURL(ctx, account)
	if err != nil {
		return err
	}
	return callAPI(ctx, http.MethodGet, u, "", nil)
}

func addsContact(ctx context.Context, clientAlias, account string) error {
	tok, u, err := clientsContacts(ctx, clientAlias, account)
	if err != nil {
		return err
	}
	return callAPI(ctx, http.MethodPost, u, tok, map[string]string{"name": "Harness Probe", "email": "probe@harness.example"})
}

func callsWithForgery(ctx context.Context, forgery string) error {
	w := worldOf(ctx)
	if w.accessToken == "" {
		return fmt.Errorf("there is no genuine token to forge from: get one first")
	}
	forged, err := forge(ctx, forgery, w.accessToken)
	if err != nil {
		return err
	}
	u, _, err := protectedResource(ctx)
	if err != nil {
		return err
	}
	return callAPI(ctx, http.MethodGet, u, forged, nil)
}

// protectedResource is the URL the generic resource-server scenarios call (the profile's
// resource_server, or the contacts API's /me).
func protectedResource(ctx context.Context) (u, api string, err error) {
	u, api, ok := worldOf(ctx).target.ProtectedResource()
	if !ok {
		return "", "", fmt.Errorf("the target profile names no resource_server: tag the scenario @needs-resource-server")
	}
	return u, api, nil
}

func callsProtected(ctx context.Context, clientAlias, inQuery string) error {
	u, _, err := protectedResource(ctx)
	if err != nil {
		return err
	}
	tok, err := tokenOf(ctx, clientAlias)
	if err != nil {
		return err
	}
	if inQuery != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		return callAPI(ctx, http.MethodGet, u+sep+"access_token="+url.QueryEscape(tok), "", nil)
	}
	return callAPI(ctx, http.MethodGet, u, tok, nil)
}

func callsProtectedWithoutToken(ctx context.Context) error {
	u, _, err := protectedResource(ctx)
	if err != nil {
		return err
	}
	return callAPI(ctx, http.MethodGet, u, "", nil)
}

func lastAPIReply(ctx context.Context) (*reply, error) {
	r := worldOf(ctx).apiReply
	if r == nil {
		return nil, fmt.Errorf("the API was not called")
	}
	return r, nil
}

func apiAnswers(ctx context.Context, status int) error {
	r, err := lastAPIReply(ctx)
	if err != nil {
		return err
	}
	if r.status != status {
		return fmt.Errorf("the API: expected HTTP %d, got %s", status, r)
	}
	if status == 401 && !strings.HasPrefix(strings.ToLower(r.header.Get("WWW-Authenticate")), "bearer") {
		return fmt.Errorf("a 401 from the API must carry a Bearer challenge (RFC 6750 §3), got %q", r.header.Get("WWW-Authenticate"))
	}
	return nil
}

func apiAnswersWithError(ctx context.Context, status int, code string) error {
	if err := apiAnswers(ctx, status); err != nil {
		return err
	}
	r := worldOf(ctx).apiReply
	if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="`+code+`"`) {
		return fmt.Errorf("the API's challenge: expected error=%q (RFC 6750 §3.1), got %q (body %s)", code, ch, r)
	}
	return nil
}

func challengeNamesScope(ctx context.Context, scope string) error {
	r, err := lastAPIReply(ctx)
	if err != nil {
		return err
	}
	ch := r.header.Get("WWW-Authenticate")
	i := strings.Index(ch, `scope="`)
	if i < 0 {
		return fmt.Errorf("the API's challenge names no scope: %q", ch)
	}
	rest := ch[i+len(`scope="`):]
	if j := strings.IndexByte(rest, '"'); j < 0 || !strings.Contains(" "+rest[:j]+" ", " "+scope+" ") {
		return fmt.Errorf("the API's challenge: expected scope %q among the needed ones, got %q", scope, ch)
	}
	return nil
}

func apiRefuses(ctx context.Context) error {
	r, err := lastAPIReply(ctx)
	if err != nil {
		return err
	}
	if r.status < 400 || r.status > 499 {
		return fmt.Errorf("the API: expected a 4xx refusal, got %s", r)
	}
	return nil
}
