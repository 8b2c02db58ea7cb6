package oauth

import (
	"encoding/json"
	"fmt"
	"github.com/oauth-harness/oauth-harness/reference-server/errdesc"
	"net/http"
)

// Error is an OAuth 2.0 error (RFC 6749 §4.1.2.1 and §5.2): the code, a human-readable
// description, and the HTTP status used when it is answered directly rather than by redirect.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
	// basic marks a failed client_secret_basic authentication, answered with a Basic challenge.
	basic bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func oerr(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Description: errdesc.Clean(fmt.Sprintf(format, args...)), Status: status}
}

func invalidRequest(format string, args ...any) *Error {
	return oerr(http.StatusBadRequest, "invalid_request", format, args...)
}

func invalidGrant(format string, args ...any) *Error {
	return oerr(http.StatusBadRequest, "invalid_grant", format, args...)
}

func invalidScope(format string, args ...any) *Error {
	return oerr(http.StatusBadRequest, "invalid_scope", format, args...)
}

func invalidClient(format string, args ...any) *Error {
	return oerr(http.StatusUnauthorized, "invalid_client", format, args...)
}

func unauthorizedClient(format string, args ...any) *Error {
	return oerr(http.StatusBadRequest, "unauthorized_client", format, args...)
}

func invalidTarget(format string, args ...any) *Error {
	return oerr(http.StatusBadRequest, "invalid_target", format, args...)
}

func serverError(format string, args ...any) *Error {
	return oerr(http.StatusInternalServerError, "server_error", format, args...)
}

// noStore marks a response as carrying credentials (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeJSON answers a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers an error from the token endpoint (or another back-channel endpoint).
func writeError(w http.ResponseWriter, e *Error) {
	noStore(w)
	if e.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth-harness", charset="UTF-8"`)
	}
	writeJSON(w, e.Status, e)
}
