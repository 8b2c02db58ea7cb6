package requestlog_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
)

func TestMiddlewareRecordsAnnotatedEntries(t *testing.T) {
	l := requestlog.New(3)
	h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestlog.Annotate(r.Context(), func(e *requestlog.Entry) { e.ClientID, e.GrantType = "acme-cms", "authorization_code" })
		w.WriteHeader(http.StatusCreated)
	}), func(r *http.Request) bool { return r.URL.Path != "/healthz" })
	for _, p := range []string{"/token", "/healthz", "/token", "/token", "/token"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, p, nil))
	}
	got := l.Entries(nil)
	if len(got) != 3 {
		t.Fatalf("%d entries, want the 3 most recent (capacity 3; /healthz not matched)", len(got))
	}
	for _, e := range got {
		if e.Path != "/token" || e.Status != http.StatusCreated || e.ClientID != "acme-cms" || e.GrantType != "authorization_code" {
			t.Errorf("entry %+v", e)
		}
	}
	if n := len(l.Entries(func(e *requestlog.Entry) bool { return e.ClientID == "other" })); n != 0 {
		t.Errorf("filter kept %d entries of another client", n)
	}
	l.Clear()
	if n := len(l.Entries(nil)); n != 0 {
		t.Errorf("%d entries after Clear", n)
	}
}

func TestEntriesAreOldestFirstAfterWrapping(t *testing.T) {
	l := requestlog.New(2)
	h := l.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), nil)
	for _, p := range []string{"/a", "/b", "/c"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	got := l.Entries(nil)
	if len(got) != 2 || got[0].Path != "/b" || got[1].Path != "/c" {
		t.Errorf("entries %+v, want /b then /c", got)
	}
}

func TestAnnotateWithoutEntryIsANoOp(t *testing.T) {
	called := false
	requestlog.Annotate(httptest.NewRequest(http.MethodGet, "/", nil).Context(), func(*requestlog.Entry) { called = true })
	if called {
		t.Error("Annotate ran the change on a request that is not being logged")
	}
}

// Entries keep bounded copies: a value parsed from a 64 KiB body must not keep the body alive.
func TestEntriesAreBoundedCopies(t *testing.T) {
	l := requestlog.New(2)
	huge := strings.Repeat("x", 64<<10)
	h := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestlog.Annotate(r.Context(), func(e *requestlog.Entry) { e.ClientID, e.Scope = huge, huge[:10] })
	}), nil)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/api/"+strings.Repeat("p", 5000), nil))
	e := l.Entries(nil)[0]
	if len(e.ClientID) != 256 || len(e.Path) != 256 || e.Scope != huge[:10] {
		t.Errorf("entry lengths client_id %d, path %d, scope %q: want 256, 256 and the short scope whole", len(e.ClientID), len(e.Path), e.Scope)
	}
	if unsafe.StringData(e.ClientID) == unsafe.StringData(huge) {
		t.Error("the entry shares memory with the request's value instead of copying it")
	}
}
