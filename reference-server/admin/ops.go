package admin

import (
	"net/http"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
)

func (h *Handler) listConsents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	writeJSON(w, http.StatusOK, h.cfg.Store.ListConsents(q.Get("user_id"), q.Get("client_id")))
}

// revokeConsents withdraws the matching consents through store.RevokeConsent, which also revokes the
// grant families they allowed. With both filters it revokes even when no consent is remembered (a
// first-party application's grants), so that "log this user out of this app" always works.
func (h *Handler) revokeConsents(w http.ResponseWriter, r *http.Request) {
	user, client := r.URL.Query().Get("user_id"), r.URL.Query().Get("client_id")
	switch {
	case user == "" && client == "":
		writeError(w, badRequest("user_id", "name user_id, client_id or both: withdrawing every consent at once is not offered"))
		return
	case user != "" && client != "":
		h.cfg.Store.RevokeConsent(user, client)
	default:
		type pair struct{ user, client string }
		var seen []pair
		for _, c := range h.cfg.Store.ListConsents(user, client) {
			if p := (pair{c.UserID, c.ClientID}); !slices.Contains(seen, p) {
				seen = append(seen, p)
				h.cfg.Store.RevokeConsent(p.user, p.client)
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) listKeys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.cfg.Keys.Keys())
}

type rotateDoc struct {
	Alg     string  `json:"alg"`
	Overlap *string `json:"overlap"` // required: "0s" is a deliberate abrupt rotation, not a default
}

type rotated struct {
	KID  string         `json:"kid"`
	Alg  string         `json:"alg"`
	Keys []keys.KeyInfo `json:"keys"`
}

// rotateKey makes a new active key for alg. The previous key stays in the JWKS for overlap; with
// "0s" it drops at once, and resource servers that cached the JWKS reject tokens signed with the new
// key (and keep accepting the old one) until they fetch it again: a fault the harness injects.
func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var d rotateDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	alg := jose.SignatureAlgorithm(d.Alg)
	if !slices.Contains(keys.Asymmetric, alg) {
		writeError(w, badRequest("alg", "%q is not one of RS256, PS256, ES256, EdDSA (HS256 keys are per-API signing secrets)", d.Alg))
		return
	}
	if d.Overlap == nil {
		writeError(w, badRequest("overlap", "is required: a duration such as \"30s\", or \"0s\" to drop the previous key at once"))
		return
	}
	overlap, err := time.ParseDuration(*d.Overlap)
	if err != nil || overlap < 0 {
		writeError(w, badRequest("overlap", "%q is not a non-negative duration such as \"30s\"", *d.Overlap))
		return
	}
	k, err := h.cfg.Keys.Rotate(alg, overlap)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, rotated{KID: k.KID, Alg: string(k.Alg), Keys: h.cfg.Keys.Keys()})
}

// listRequests answers the request log, filtered by client_id, exact path and time.
func (h *Handler) listRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	client, path := q.Get("client_id"), q.Get("path")
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			d, derr := time.ParseDuration(s)
			if derr != nil || d < 0 {
				writeError(w, badRequest("since", "%q is neither an RFC 3339 time nor a duration such as \"5m\"", s))
				return
			}
			t = time.Now().Add(-d) // the log's clock is the wall clock
		}
		since = t
	}
	out := h.cfg.Requests.Entries(func(e *requestlog.Entry) bool {
		return (client == "" || e.ClientID == client) && (path == "" || e.Path == path) && !e.Time.Before(since)
	})
	if out == nil {
		out = []requestlog.Entry{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) clearRequests(w http.ResponseWriter, _ *http.Request) {
	h.cfg.Requests.Clear()
	w.WriteHeader(http.StatusNoContent)
}
