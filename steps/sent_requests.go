package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
)

// secretParams are masked wherever a request is shown: a report must let a reader tell whether the
// harness or the provider is wrong without handing out what the harness authenticated with.
var secretParams = []string{"client_secret", "password", "client_assertion", "code_verifier", "refresh_token",
	"code", "token", "access_token", "id_token", "registration_access_token"}

// sentRequest is one request a step sent and what came back, as a failed step's report shows it.
type sentRequest struct {
	method, url, body, auth string
	answer                  string
}

// record keeps a masked copy of req (its body read from body) and the answer, for the step's report.
func (w *world) record(req *http.Request, body []byte, r *reply, err error) {
	e := sentRequest{method: req.Method, url: maskURL(req.URL)}
	if len(body) > 0 {
		if v, perr := url.ParseQuery(string(body)); perr == nil && strings.Contains(req.Header.Get("Content-Type"), "form") {
			e.body = maskValues(v).Encode()
		} else {
			e.body = fmt.Sprintf("(%d bytes of %s)", len(body), req.Header.Get("Content-Type"))
		}
	}
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		e.auth = scheme + " …"
	}
	switch {
	case err != nil:
		e.answer = "no answer: " + err.Error()
	default:
		e.answer = r.String()
	}
	// The last few are kept: the step that fails is often the check after the one that sent.
	w.exchanges = append(w.exchanges, e)
	if len(w.exchanges) > shownRequests {
		w.exchanges = w.exchanges[len(w.exchanges)-shownRequests:]
	}
}

// shownRequests is how many of a scenario's last requests a failed step shows.
const shownRequests = 5

// bodyOf reads a request's body and puts it back, so it can be both sent and recorded.
func bodyOf(req *http.Request) []byte {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

func maskURL(u *url.URL) string {
	c := *u
	c.RawQuery = maskValues(u.Query()).Encode()
	return c.String()
}

func maskValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, s := range vs {
			if slices.Contains(secretParams, k) && s != "" {
				s = mask(s)
			}
			out.Add(k, s)
		}
	}
	return out
}

// mask keeps a secret's length and first characters: enough to tell two apart, not to use one.
func mask(s string) string {
	if len(s) <= 8 {
		return "***"
	}
	return s[:4] + "…(" + fmt.Sprint(len(s)) + " chars)"
}

// attachExchanges attaches the scenario's last requests to a failed step, beside its error.
func (w *world) attachExchanges(ctx context.Context, failed bool) context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !failed || len(w.exchanges) == 0 {
		return ctx
	}
	defer func() { w.exchanges = nil }()
	var b strings.Builder
	for i, e := range w.exchanges {
		fmt.Fprintf(&b, "%d. %s %s\n", i+1, e.method, e.url)
		if e.auth != "" {
			fmt.Fprintf(&b, "   Authorization: %s\n", e.auth)
		}
		if e.body != "" {
			fmt.Fprintf(&b, "   body: %s\n", e.body)
		}
		fmt.Fprintf(&b, "   → %s\n", e.answer)
	}
	return godog.Attach(ctx, godog.Attachment{Body: []byte(b.String()), FileName: "requests.txt", MediaType: "text/plain"})
}
