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

func TestListConsents(t *testing.T) {
	s, _ := newStore()
	const a, b = "https://a.example", "https://b.example"
	s.GrantConsent("u2", "c1", a, []string{"x"})
	s.GrantConsent("u1", "c2", b, nil)
	s.GrantConsent("u1", "c1", b, []string{"y"})
	s.GrantConsent("u1", "c1", a, []string{"x"})
	key := func(rs []store.ConsentRecord) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.UserID+"/"+r.ClientID+"/"+r.Audience)
		}
		return out
	}
	cases := []struct {
		user, client string
		want         []string
	}{
		{"", "", []string{"u1/c1/" + a, "u1/c1/" + b, "u1/c2/" + b, "u2/c1/" + a}},
		{"u1", "", []string{"u1/c1/" + a, "u1/c1/" + b, "u1/c2/" + b}},
		{"", "c1", []string{"u1/c1/" + a, "u1/c1/" + b, "u2/c1/" + a}},
		{"u2", "c1", []string{"u2/c1/" + a}},
		{"u3", "", nil},
	}
	for _, tc := range cases {
		if got := key(s.ListConsents(tc.user, tc.client)); !slices.Equal(got, tc.want) {
			t.Errorf("ListConsents(%q, %q) = %v, want %v", tc.user, tc.client, got, tc.want)
		}
	}
	got := s.ListConsents("u2", "c1")
	got[0].Scopes[0] = "tampered"
	if s.Consent("u2", "c1", a)[0] != "x" {
		t.Error("ListConsents returned shared storage")
	}
	if s.ListConsents("nobody", "") == nil {
		t.Error("an empty list is nil: the admin API would answer null")
	}
}

// Deleting an application or a user revokes everything that hangs off it, and nothing else.
func TestRevokeClientAndUser(t *testing.T) {
	const aud = "https://api.example"
	type grant struct{ user, client, at string }
	grants := []grant{{"paul", "cms", "at-paul-cms"}, {"mary", "cms", "at-mary-cms"}, {"paul", "web", "at-paul-web"}, {"mary", "web", "at-mary-web"}}
	cases := []struct {
		name    string
		revoke  func(*store.Store)
		revoked map[string]bool // access tokens that must be denied
		session bool            // paul's session survives
	}{
		{"client", func(s *store.Store) { s.RevokeClient("cms") }, map[string]bool{"at-paul-cms": true, "at-mary-cms": true}, true},
		{"user", func(s *store.Store) { s.RevokeUser("paul") }, map[string]bool{"at-paul-cms": true, "at-paul-web": true}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStore()
			for _, g := range grants {
				s.GrantConsent(g.user, g.client, aud, []string{"read"})
				f := s.NewFamily(&store.Family{ClientID: g.client, UserID: g.user})
				must(t, s.RecordAccessToken(f.ID, g.at, c.Now().Add(time.Hour)))
			}
			s.PutSession("paul-sid", &store.Session{UserID: "paul", Expires: c.Now().Add(time.Hour)})
			tc.revoke(s)
			for _, g := range grants {
				if s.Denied(g.at) != tc.revoked[g.at] {
					t.Errorf("%s denied = %v, want %v", g.at, s.Denied(g.at), tc.revoked[g.at])
				}
				if (s.Consent(g.user, g.client, aud) == nil) != tc.revoked[g.at] {
					t.Errorf("consent %s/%s kept = %v", g.user, g.client, s.Consent(g.user, g.client, aud) != nil)
				}
			}
			if (s.Session("paul-sid") != nil) != tc.session {
				t.Errorf("paul's session kept = %v, want %v", s.Session("paul-sid") != nil, tc.session)
			}
		})
	}
}
