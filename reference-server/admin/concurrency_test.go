package admin_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// A PUT of an application and a secret rotation at the same time: the secret the rotation returned
// still authenticates (the PUT's merge does not write back the digest it read before the rotation).
func TestUpdateKeepsConcurrentSecretRotation(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	doc := map[string]any{"name": "Nightly Export", "type": "machine_to_machine", "grant_types": []string{"client_credentials"}}
	r := admin(t, s, http.MethodPost, "/applications", doc)
	want(t, r, http.StatusCreated, "")
	id := r.str("client_id")
	want(t, admin(t, s, http.MethodPost, "/client-grants", map[string]any{"client_id": id, "audience": contactsAPI,
		"scopes": []string{"read:contacts"}}), http.StatusCreated, "")
	doc["client_id"] = id
	for i := range 200 {
		var wg sync.WaitGroup
		var rot, put response
		wg.Add(2)
		go func() { defer wg.Done(); rot = admin(t, s, http.MethodPost, "/applications/"+id+"/secret", nil) }()
		go func() { defer wg.Done(); put = admin(t, s, http.MethodPut, "/applications/"+id, doc) }()
		wg.Wait()
		if rot.Status != http.StatusOK || put.Status != http.StatusOK {
			t.Fatalf("round %d: rotation %d %s; update %d %s", i, rot.Status, rot.Raw, put.Status, put.Raw)
		}
		if st, _ := clientCredentials(t, s, id, rot.str("client_secret")); st != http.StatusOK {
			t.Fatalf("round %d: the rotated secret does not authenticate (%d): the update undid the rotation", i, st)
		}
	}
}

// A PUT of an API that leaves signing_secret out (keeping the current one) and a PUT that sets a new
// one, at the same time: the new secret is kept.
func TestUpdateAPIKeepsConcurrentSecret(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	const id = "https://hs.contacts.example"
	item := "/apis/" + url.PathEscape(id)
	api := map[string]any{"name": "HS API", "identifier": id, "signing_alg": "HS256", "signing_secret": strings.Repeat("s", 32),
		"scopes": []map[string]string{{"value": "read:hs", "description": "Read"}}}
	want(t, admin(t, s, http.MethodPost, "/apis", api), http.StatusCreated, "")
	keep := map[string]any{"name": "HS API", "identifier": id, "signing_alg": "HS256",
		"scopes": []map[string]string{{"value": "read:hs", "description": "Read"}}}
	for i := range 200 {
		secret := fmt.Sprintf("%032d", i)
		set := maps.Clone(keep)
		set["signing_secret"] = secret
		var wg sync.WaitGroup
		var a, b response
		wg.Add(2)
		go func() { defer wg.Done(); a = admin(t, s, http.MethodPut, item, set) }()
		go func() { defer wg.Done(); b = admin(t, s, http.MethodPut, item, keep) }()
		wg.Wait()
		if a.Status != http.StatusOK || b.Status != http.StatusOK {
			t.Fatalf("round %d: %d %s; %d %s", i, a.Status, a.Raw, b.Status, b.Raw)
		}
		if got := s.Tenant.API(id).SigningSecret; got != secret {
			t.Fatalf("round %d: the signing secret set concurrently was lost", i)
		}
	}
}
