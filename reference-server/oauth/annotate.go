package oauth

import (
	"net/http"

	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
)

// The request log (package requestlog) lets the conformance suite observe what a client under test
// sent: which client, how it authenticated, whether it used PKCE. These helpers annotate the current
// request's entry; without the log middleware they do nothing.

func noteClient(r *http.Request, clientID, method string) {
	requestlog.Annotate(r.Context(), func(e *requestlog.Entry) {
		e.ClientID, e.AuthMethod = clientID, method
	})
}

func noteGrant(r *http.Request, grantType string) {
	requestlog.Annotate(r.Context(), func(e *requestlog.Entry) { e.GrantType = grantType })
}

func noteScope(r *http.Request, scope string) {
	requestlog.Annotate(r.Context(), func(e *requestlog.Entry) { e.Scope = scope })
}

func notePKCE(r *http.Request, used bool) {
	requestlog.Annotate(r.Context(), func(e *requestlog.Entry) { e.PKCE = &used })
}

func noteAuthorization(r *http.Request, responseType, redirectURI, state string) {
	requestlog.Annotate(r.Context(), func(e *requestlog.Entry) {
		e.ResponseType, e.RedirectURI, e.State = responseType, redirectURI, state
	})
}

func noteError(r *http.Request, code string) {
	requestlog.Annotate(r.Context(), func(e *requestlog.Entry) { e.Error = code })
}

// replyError answers a back-channel error and records its code.
func replyError(w http.ResponseWriter, r *http.Request, e *Error) {
	noteError(r, e.Code)
	writeError(w, e)
}
