package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
)

func TestSessions(t *testing.T) {
	s, c := newStore()
	s.PutSession("sid", &store.Session{UserID: "user-paul", AuthTime: c.Now(), Expires: c.Now().Add(time.Hour)})

	got := s.Session("sid")
	if got == nil || got.UserID != "user-paul" {
		t.Fatalf("Session(sid) = %+v", got)
	}
	got.UserID = "user-mary"
	if s.Session("sid").UserID != "user-paul" {
		t.Error("Session returned the stored session, not a copy")
	}
	if s.Session("other") != nil {
		t.Error("unknown session found")
	}

	c.Advance(time.Hour + time.Second)
	if s.Session("sid") != nil {
		t.Error("expired session still returned")
	}

	s.PutSession("sid2", &store.Session{UserID: "u", Expires: c.Now().Add(time.Hour)})
	s.DeleteSession("sid2")
	if s.Session("sid2") != nil {
		t.Error("deleted session still returned")
	}
}

func TestConsents(t *testing.T) {
	s, _ := newStore()
	const aud = "https://api.example"
	if s.Consent("u", "c", aud) != nil {
		t.Fatal("consent before any grant")
	}
	s.GrantConsent("u", "c", aud, []string{"read:contacts"})
	s.GrantConsent("u", "c", aud, []string{"update:contacts", "read:contacts"})
	got := s.Consent("u", "c", aud)
	if !slices.Equal(got, []string{"read:contacts", "update:contacts"}) {
		t.Errorf("merged consent = %v", got)
	}
	got[0] = "tampered"
	if s.Consent("u", "c", aud)[0] != "read:contacts" {
		t.Error("Consent returned shared storage")
	}
	for _, k := range [][3]string{{"u", "c", "https://other.example"}, {"u", "other", aud}, {"other", "c", aud}} {
		if s.Consent(k[0], k[1], k[2]) != nil {
			t.Errorf("consent leaked to %v", k)
		}
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		name            string
		granted, wanted []string
		want            bool
	}{
		{"nothing wanted", nil, nil, true},
		{"subset", []string{"a", "b"}, []string{"b"}, true},
		{"equal", []string{"a", "b"}, []string{"b", "a"}, true},
		{"missing one", []string{"a"}, []string{"a", "b"}, false},
		{"nothing granted", nil, []string{"a"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.Covers(tc.granted, tc.wanted); got != tc.want {
				t.Errorf("Covers(%v, %v) = %v", tc.granted, tc.wanted, got)
			}
		})
	}
}

// Covers(nil, nil) is true, so the consent check must also ask whether the user consented at all:
// a third-party app asking for no scope must still be shown the consent page once.
func TestConsented(t *testing.T) {
	s, _ := newStore()
	const aud = "https://api.example"
	if s.Consented("u", "c", aud, nil) || s.Consented("u", "c", aud, []string{}) {
		t.Fatal("Consented with no scope is true before the user ever consented")
	}
	s.GrantConsent("u", "c", aud, nil)
	if !s.Consented("u", "c", aud, nil) {
		t.Error("a consent to no scope is not remembered")
	}
	if s.Consented("u", "c", aud, []string{"read:contacts"}) {
		t.Error("a consent to no scope covers read:contacts")
	}
	if got := s.Consent("u", "c", aud); got == nil || len(got) != 0 {
		t.Errorf("Consent after a grant of no scope = %#v, want an empty, non-nil list", got)
	}
	s.GrantConsent("u", "c", aud, []string{"read:contacts"})
	if !s.Consented("u", "c", aud, []string{"read:contacts"}) || !s.Consented("u", "c", aud, nil) {
		t.Error("granted scopes not consented")
	}
	if s.Consented("u", "c", aud, []string{"read:contacts", "update:contacts"}) {
		t.Error("Consented covers a scope never granted")
	}
	for _, k := range [][3]string{{"u", "c", "https://other.example"}, {"u", "other", aud}, {"other", "c", aud}} {
		if s.Consented(k[0], k[1], k[2], nil) {
			t.Errorf("consent leaked to %v", k)
		}
	}
	s.RevokeConsent("u", "c")
	if s.Consented("u", "c", aud, nil) {
		t.Error("Consented after RevokeConsent")
	}
}
