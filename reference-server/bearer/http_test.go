package bearer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
)

func TestParseAuthorization(t *testing.T) {
	cases := []struct {
		name   string
		target string
		header string // "" for none
		token  string
		code   string
		status int // 0 when a token is returned
	}{
		{"bearer token", "/x", "Bearer abc.def.ghi", "abc.def.ghi", "", 0},
		{"scheme is case-insensitive", "/x", "bearer abc", "abc", "", 0},
		{"extra spaces", "/x", "Bearer   abc  ", "abc", "", 0},
		{"token in the query string", "/x?access_token=abc", "", "", "invalid_request", http.StatusBadRequest},
		{"token in the query string and the header", "/x?access_token=abc", "Bearer abc", "", "invalid_request", http.StatusBadRequest},
		{"empty access_token parameter", "/x?access_token=", "Bearer abc", "", "invalid_request", http.StatusBadRequest},
		{"no header", "/x", "", "", "", http.StatusUnauthorized},
		{"scheme without a token", "/x", "Bearer", "", "invalid_request", http.StatusBadRequest},
		{"scheme and blanks", "/x", "Bearer    ", "", "invalid_request", http.StatusBadRequest},
		{"no space after the scheme", "/x", "Bearerabc", "", "invalid_request", http.StatusBadRequest},
		// RFC 6750 §3.1: a client that "attempted using an unsupported authentication method" lacks
		// authentication information: 401 with a bare challenge, no error code.
		{"Basic scheme", "/x", "Basic dXNlcjpwYXNz", "", "", http.StatusUnauthorized},
		{"DPoP scheme", "/x", "DPoP abc", "", "", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			tok, e := bearer.ParseAuthorization(r)
			if tc.status == 0 {
				if e != nil || tok != tc.token {
					t.Errorf("ParseAuthorization = %q, %+v; want %q", tok, e, tc.token)
				}
				return
			}
			if e == nil {
				t.Fatalf("ParseAuthorization accepted %q", tok)
			}
			if tok != "" || e.Code != tc.code || e.Status != tc.status {
				t.Errorf("ParseAuthorization = %q, %+v; want code %q status %d", tok, e, tc.code, tc.status)
			}
		})
	}
}

// parseChallenge parses `Bearer k="v", k="v"` strictly (RFC 9110 §11.2 auth-params with quoted values).
func parseChallenge(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Fatalf("challenge %q does not start with the Bearer scheme", h)
	}
	params := map[string]string{}
	for rest != "" {
		name, after, ok := strings.Cut(rest, `="`)
		if !ok || name == "" || strings.ContainsAny(name, ` ,"`) {
			t.Fatalf("bad auth-param at %q in %q", rest, h)
		}
		var val strings.Builder
		i := 0
		for ; i < len(after) && after[i] != '"'; i++ {
			c := after[i]
			if c == '\\' && i+1 < len(after) {
				i++
				c = after[i]
			}
			if c < 0x20 || c == 0x7f {
				t.Fatalf("control character in %q", h)
			}
			val.WriteByte(c)
		}
		if i == len(after) {
			t.Fatalf("unterminated quoted-string in %q", h)
		}
		if _, dup := params[name]; dup {
			t.Fatalf("parameter %s twice in %q", name, h)
		}
		params[name] = val.String()
		rest = after[i+1:]
		if rest != "" {
			if rest, ok = strings.CutPrefix(rest, ", "); !ok {
				t.Fatalf("parameters not separated by \", \" in %q", h)
			}
		}
	}
	return params
}

func TestWriteError(t *testing.T) {
	cases := []struct {
		name   string
		err    *bearer.Error
		scope  string
		status int
		params map[string]string
		body   string
	}{
		{"no credentials: bare challenge", &bearer.Error{Status: 401, Description: "no access token"}, "", 401,
			map[string]string{"realm": "contacts"}, "unauthorized"},
		{"invalid token", &bearer.Error{Code: "invalid_token", Status: 401, Description: "token expired at 2026-03-01T12:00:00Z"}, "", 401,
			map[string]string{"realm": "contacts", "error": "invalid_token", "error_description": "token expired at 2026-03-01T12:00:00Z"},
			"invalid_token"},
		{"description with quotes, backslash, CRLF and non-ASCII",
			&bearer.Error{Code: "invalid_token", Status: 401, Description: "iss \"evil\\\" is not \"x\"\r\nSet-Cookie: a=b; café"}, "", 401,
			map[string]string{"realm": "contacts", "error": "invalid_token",
				"error_description": "iss 'evil/' is not 'x'??Set-Cookie: a=b; caf?"}, "invalid_token"},
		{"insufficient scope", &bearer.Error{Code: "insufficient_scope", Status: 403, Description: "this request needs the update:contacts scope"},
			"update:contacts", 403,
			map[string]string{"realm": "contacts", "error": "insufficient_scope",
				"error_description": "this request needs the update:contacts scope", "scope": "update:contacts"}, "insufficient_scope"},
		{"invalid request", &bearer.Error{Code: "invalid_request", Status: 400, Description: "use the header"}, "", 400,
			map[string]string{"realm": "contacts", "error": "invalid_request", "error_description": "use the header"}, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			bearer.WriteError(w, "contacts", tc.err, tc.scope)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			h := w.Header().Values("WWW-Authenticate")
			if len(h) != 1 {
				t.Fatalf("WWW-Authenticate headers: %q", h)
			}
			got := parseChallenge(t, h[0])
			if len(got) != len(tc.params) {
				t.Errorf("challenge params %v, want %v", got, tc.params)
			}
			for k, v := range tc.params {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (header %s)", k, got[k], v, h[0])
				}
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %q", w.Body)
			}
			if body["error"] != tc.body || body["error_description"] != tc.err.Description {
				t.Errorf("body = %v", body)
			}
		})
	}
}
