// Package requestlog records what each client sent: the conformance steps and the partner
// certification observe a client under test through it (via the admin API), for example whether it
// used PKCE or carried its bearer token in the Authorization header.
//
// The middleware opens an Entry per request and puts it in the request context; handlers that know
// more (the grant type, the client authentication method) annotate it; the entry is stored when the
// response is written.
package requestlog

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Where a bearer token was carried.
const (
	BearerHeader = "header"
	BearerQuery  = "query"
	BearerBody   = "body"
)

// Entry is one request as the server saw it. Secrets are never recorded.
type Entry struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	ClientID   string    `json:"client_id,omitempty"`
	GrantType  string    `json:"grant_type,omitempty"`
	AuthMethod string    `json:"auth_method,omitempty"` // client authentication method used
	PKCE       *bool     `json:"pkce,omitempty"`        // authorization requests and code redemptions
	Bearer     string    `json:"bearer,omitempty"`      // where a bearer token was carried
	Scope      string    `json:"scope,omitempty"`
	Error      string    `json:"error,omitempty"` // the OAuth error code answered, if any
	// Authorization requests: what a client under certification sent (the state is a CSRF token
	// with a short life, logged so the harness can tell a fixed one from a random one).
	ResponseType string `json:"response_type,omitempty"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	State        string `json:"state,omitempty"`
}

type ctxKey struct{}

// Annotate lets a handler add what it learned to the current request's entry. It is a no-op when the
// request is not being logged.
func Annotate(ctx context.Context, f func(*Entry)) {
	if e, ok := ctx.Value(ctxKey{}).(*Entry); ok {
		f(e)
	}
}

// Log keeps the most recent entries, at most Capacity (oldest dropped first).
type Log struct {
	mu       sync.Mutex
	entries  []Entry
	next     int
	full     bool
	capacity int
}

// DefaultCapacity bounds memory: at most about 2 KiB an entry (every string is bounded, see add).
const DefaultCapacity = 10_000

// New returns a log holding up to capacity entries (DefaultCapacity when capacity <= 0).
func New(capacity int) *Log {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Log{entries: make([]Entry, capacity), capacity: capacity}
}

// maxField bounds each recorded string. Values parsed from a request are substrings of its body or
// URL: keeping one unbounded (or uncopied) would keep the whole request alive, up to 64 KiB an entry.
const maxField = 256

func bound(s string) string { return strings.Clone(s[:min(len(s), maxField)]) }

func (l *Log) add(e Entry) {
	e.Method, e.Path, e.ClientID, e.GrantType = bound(e.Method), bound(e.Path), bound(e.ClientID), bound(e.GrantType)
	e.AuthMethod, e.Bearer, e.Scope, e.Error = bound(e.AuthMethod), bound(e.Bearer), bound(e.Scope), bound(e.Error)
	e.ResponseType, e.RedirectURI, e.State = bound(e.ResponseType), bound(e.RedirectURI), bound(e.State)
	l.mu.Lock()
	l.entries[l.next] = e
	l.next = (l.next + 1) % l.capacity
	if l.next == 0 {
		l.full = true
	}
	l.mu.Unlock()
}

// Entries returns the kept entries, oldest first, for which keep returns true (all when keep is nil).
func (l *Log) Entries(keep func(*Entry) bool) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ordered []Entry
	if l.full {
		ordered = append(slices.Clone(l.entries[l.next:]), l.entries[:l.next]...)
	} else {
		ordered = slices.Clone(l.entries[:l.next])
	}
	if keep == nil {
		return ordered
	}
	return slices.DeleteFunc(ordered, func(e Entry) bool { return !keep(&e) })
}

// Clear drops every entry.
func (l *Log) Clear() {
	l.mu.Lock()
	l.next, l.full = 0, false
	clear(l.entries)
	l.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController and http.MaxBytesReader reach the connection's writer (the
// latter closes the connection after an oversized body).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Middleware records every request that matches (all when match is nil) into l.
func (l *Log) Middleware(next http.Handler, match func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match != nil && !match(r) {
			next.ServeHTTP(w, r)
			return
		}
		e := &Entry{Time: time.Now(), Method: r.Method, Path: r.URL.Path}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, e)))
		e.Status = sw.status
		if e.Status == 0 {
			e.Status = http.StatusOK
		}
		l.add(*e)
	})
}
