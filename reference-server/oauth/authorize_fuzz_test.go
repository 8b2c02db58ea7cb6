package oauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// FuzzAuthorize feeds arbitrary query strings (and req parameters of the login and consent pages,
// which carry the sealed request) to the interactive endpoints. It must never panic, and must never
// redirect anywhere but our own pages or a redirect URI registered for the request's client: the
// authorization endpoint must not become an open redirector, whatever it is sent.
func FuzzAuthorize(f *testing.F) {
	srv := servertest.Start(f, server.Options{})
	h := srv.Handler()
	registered := map[string]bool{}
	for _, app := range srv.Tenant.Config().Applications {
		for _, r := range app.RedirectURIs {
			registered[app.ClientID+" "+r] = true
		}
	}
	for _, q := range []string{
		"response_type=code&client_id=acme-cms&redirect_uri=https%3A%2F%2Fcms.acme.example%2Foauth%2Fcallback&scope=openid&state=x",
		"response_type=code&client_id=acme-cms&redirect_uri=https%3A%2F%2Fevil.example%2F&state=x",
		"response_type=id_token+token&client_id=contacts-legacy-spa&redirect_uri=https%3A%2F%2Flegacy.contacts.example%2Fcallback&nonce=n&scope=openid",
		"response_type=code&client_id=contacts-spa&redirect_uri=https%3A%2F%2Fspa.contacts.example%2Fcallback&code_challenge=abc&code_challenge_method=plain",
		"client_id=acme-cms&client_id=contacts-web&redirect_uri=x",
		"response_type=code&client_id=contacts-web&redirect_uri=https%3A%2F%2Fapp.contacts.example%2Fcallback&prompt=none&max_age=99999999999999999999",
		"req=AAAA", "%zz", "",
	} {
		f.Add("/authorize", q)
		f.Add("/login", q)
	}
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		switch path {
		case "/authorize", "/login", "/consent":
		default:
			path = "/authorize"
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path, r.URL.RawQuery, r.RequestURI = path, rawQuery, path+"?"+rawQuery
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		loc := w.Header().Get("Location")
		if loc == "" {
			if w.Code >= 300 && w.Code < 400 {
				t.Fatalf("redirect %d without a Location", w.Code)
			}
			return
		}
		if strings.HasPrefix(loc, "/login?") || strings.HasPrefix(loc, "/consent?") {
			return
		}
		q, _ := url.ParseQuery(rawQuery)
		target := loc
		if i := strings.IndexAny(target, "?#"); i >= 0 {
			target = target[:i]
		}
		if !registered[q.Get("client_id")+" "+target] {
			t.Fatalf("redirected to %q, which is not a redirect URI registered for client %q (query %q)", loc, q.Get("client_id"), rawQuery)
		}
	})
}
