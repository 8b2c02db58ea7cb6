package registration_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// A client sending its update body slowly holds up nobody else, and an admin deletion meanwhile
// makes its update a 401 (RFC 7592 §2.1), not a crash.
func TestStalledUpdate(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	endpoint := s.IssuerURL() + oauth.PathRegister
	a := call(t, http.MethodPost, endpoint, "", webClient())
	b := call(t, http.MethodPost, endpoint, "", webClient())
	u, _ := url.Parse(a.str("registration_client_uri"))
	body := fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://a.example/cb"]}`, a.str("client_id"))
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		u.RequestURI(), u.Host, a.str("registration_access_token"), len(body), body[:5])
	time.Sleep(100 * time.Millisecond) // a's PUT is in the handler, reading its body

	got := make(chan response, 1)
	go func() {
		got <- call(t, http.MethodGet, b.str("registration_client_uri"), b.str("registration_access_token"), nil)
	}()
	select {
	case r := <-got:
		if r.Status != http.StatusOK {
			t.Errorf("b's read: %d %s", r.Status, r.Raw)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("b's read is blocked by a's stalled update")
	}

	if r := adminCall(t, s, http.MethodDelete, "/applications/"+a.str("client_id"), nil); r.Status != http.StatusNoContent {
		t.Fatalf("admin delete: %d %s", r.Status, r.Raw)
	}
	if _, err := conn.Write([]byte(body[5:])); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a's update got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("a's update after the admin deleted a: %d %v, want 401 invalid_token", resp.StatusCode, resp.Header)
	}
	if s.Tenant.Application(a.str("client_id")) != nil {
		t.Error("a's update recreated the deleted application")
	}
}

// A registration ends with its application: an application the admin creates later under the same
// client_id is not managed by the old registration access token.
func TestRegistrationEndsWithAdminDelete(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	reg := call(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", webClient())
	id, uri, rat := reg.str("client_id"), reg.str("registration_client_uri"), reg.str("registration_access_token")
	if r := adminCall(t, s, http.MethodDelete, "/applications/"+id, nil); r.Status != http.StatusNoContent {
		t.Fatalf("admin delete: %d %s", r.Status, r.Raw)
	}
	if r := adminCall(t, s, http.MethodPost, "/applications", map[string]any{"client_id": id, "name": "Admin Owned", "type": "regular_web",
		"redirect_uris": []string{"https://admin.example/cb"}, "grant_types": []string{"authorization_code"}}); r.Status != http.StatusCreated {
		t.Fatalf("admin recreate: %d %s", r.Status, r.Raw)
	}
	if r := call(t, http.MethodGet, uri, rat, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("read of the recreated application with the old token: %d %s", r.Status, r.Raw)
	}
	up := map[string]any{"client_id": id, "redirect_uris": []string{"https://evil.example/cb"}}
	if r := call(t, http.MethodPut, uri, rat, up); r.Status != http.StatusUnauthorized {
		t.Errorf("update of the recreated application with the old token: %d %s", r.Status, r.Raw)
	}
	if r := call(t, http.MethodDelete, uri, rat, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("delete of the recreated application with the old token: %d %s", r.Status, r.Raw)
	}
	if app := s.Tenant.Application(id); app == nil || app.Name != "Admin Owned" || !app.HasRedirectURI("https://admin.example/cb") {
		t.Errorf("the recreated application changed: %+v", app)
	}
}

// RFC 7592 §2.1: a read returns the client as the server holds it now, admin changes included.
func TestReadShowsAdminChanges(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	reg := call(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", webClient())
	id := reg.str("client_id")
	if r := adminCall(t, s, http.MethodPut, "/applications/"+id, map[string]any{"client_id": id, "name": "Renamed", "type": "regular_web",
		"redirect_uris": []string{"https://moved.partner.example/cb"}, "grant_types": []string{"authorization_code"},
		"token_endpoint_auth_method": "client_secret_post"}); r.Status != http.StatusOK {
		t.Fatalf("admin update: %d %s", r.Status, r.Raw)
	}
	r := call(t, http.MethodGet, reg.str("registration_client_uri"), reg.str("registration_access_token"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("read: %d %s", r.Status, r.Raw)
	}
	uris, _ := r.Body["redirect_uris"].([]any)
	grants, _ := r.Body["grant_types"].([]any)
	if r.str("client_name") != "Renamed" || len(uris) != 1 || uris[0] != "https://moved.partner.example/cb" ||
		len(grants) != 1 || r.str("token_endpoint_auth_method") != "client_secret_post" {
		t.Errorf("read shows the registration, not the client as it is: %s", r.Raw)
	}
	if r.str("scope") != "openid offline_access read:contacts" {
		t.Errorf("read lost the registered scope, which the tenant does not keep: %s", r.Raw)
	}
}

// An RFC 7592 update and an admin secret rotation at the same time: the rotated secret survives.
func TestUpdateKeepsConcurrentSecretRotation(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	reg := call(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", webClient())
	id, uri, rat := reg.str("client_id"), reg.str("registration_client_uri"), reg.str("registration_access_token")
	up := webClient()
	up["client_id"] = id
	for i := range 100 {
		var wg sync.WaitGroup
		var rot, upd response
		wg.Add(2)
		go func() { defer wg.Done(); rot = adminCall(t, s, http.MethodPost, "/applications/"+id+"/secret", nil) }()
		go func() { defer wg.Done(); upd = call(t, http.MethodPut, uri, rat, up) }()
		wg.Wait()
		if rot.Status != http.StatusOK || upd.Status != http.StatusOK {
			t.Fatalf("round %d: rotation %d %s; update %d %s", i, rot.Status, rot.Raw, upd.Status, upd.Raw)
		}
		rat = upd.str("registration_access_token")
		d := sha256.Sum256([]byte(rot.str("client_secret")))
		if got := s.Tenant.Application(id).ClientSecretSHA256; got != hex.EncodeToString(d[:]) {
			t.Fatalf("round %d: the update undid the concurrent secret rotation", i)
		}
	}
}
