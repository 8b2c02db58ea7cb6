package tenant_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

const (
	mutContacts   = "https://api.contacts.example"
	mutSecretHash = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" // SHA-256("x")
	mutBcrypt     = "$2a$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AaUNH6jXdQ4jZ7Zy"
)

func mutApp(id string) tenant.Application {
	return tenant.Application{Name: "App " + id, ClientID: id, Type: tenant.RegularWeb, ClientSecretSHA256: mutSecretHash,
		RedirectURIs: []string{"https://" + id + ".example/cb"}, GrantTypes: []string{tenant.GrantAuthorizationCode}}
}

// Every non-empty slice, map and pointer reachable from the copy must live elsewhere than the
// original's: a write through the copy must never show in the configuration readers hold.
func TestCloneSharesNothing(t *testing.T) {
	orig := fixtureConfig(t)
	cp := orig.Clone()
	if !reflect.DeepEqual(orig, cp) {
		t.Fatal("Clone is not equal to the original")
	}
	var shared []string
	var walk func(a, b reflect.Value, path string)
	walk = func(a, b reflect.Value, path string) {
		switch a.Kind() {
		case reflect.Slice:
			if a.Len() > 0 && a.Pointer() == b.Pointer() {
				shared = append(shared, path)
			}
			for i := range a.Len() {
				walk(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Pointer:
			if !a.IsNil() {
				if a.Pointer() == b.Pointer() {
					shared = append(shared, path)
				}
				walk(a.Elem(), b.Elem(), path)
			}
		case reflect.Struct:
			for i := range a.NumField() {
				if a.Type().Field(i).IsExported() {
					walk(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)
				}
			}
		}
	}
	walk(reflect.ValueOf(orig), reflect.ValueOf(cp), "Config")
	if len(shared) > 0 {
		t.Errorf("the clone shares memory with the original at %v", shared)
	}
	cp.APIs[0].Scopes[0].Value = "changed"
	cp.Users[0].Accounts[0] = "changed"
	if orig.APIs[0].Scopes[0].Value == "changed" || orig.Users[0].Accounts[0] == "changed" {
		t.Error("a write to the clone changed the original")
	}
	if unsafe.SliceData(orig.Applications) == unsafe.SliceData(cp.Applications) {
		t.Error("applications slice shared")
	}
}

func TestMutationsRoundTrip(t *testing.T) {
	tn := tenant.New(fixtureConfig(t))
	before := tn.Config()

	app := mutApp("new-app")
	if err := tn.AddApplication(app); err != nil {
		t.Fatal(err)
	}
	if got := tn.Application("new-app"); got == nil || got.TokenEndpointAuthMethod != tenant.AuthClientSecretBasic {
		t.Fatalf("added application = %+v (want the auth-method default applied)", got)
	}
	if before.Applications[len(before.Applications)-1].ClientID == "new-app" || len(before.Applications) == len(tn.Config().Applications) {
		t.Error("the previous configuration changed: copy-on-write broken")
	}
	app.RedirectURIs[0] = "https://mutated.example/cb" // the caller's slice must not be kept
	if tn.Application("new-app").RedirectURIs[0] != "https://new-app.example/cb" {
		t.Error("the tenant aliases the caller's slice")
	}

	app.Name = "Renamed"
	app.ClientID = ""
	if err := tn.UpdateApplication("new-app", app); err != nil {
		t.Fatal(err)
	}
	if tn.Application("new-app").Name != "Renamed" {
		t.Error("update not applied")
	}
	if err := tn.AddAPI(tenant.API{Name: "Temp", Identifier: "https://temp.example",
		Scopes: []tenant.Scope{{Value: "t:read", Description: "read"}}}); err != nil {
		t.Fatal(err)
	}
	if tn.API("https://temp.example").SigningAlg != tenant.RS256 {
		t.Error("API defaults not applied")
	}
	m2m := tenant.Application{Name: "M2M", ClientID: "m2m", Type: tenant.MachineToMachine, ClientSecretSHA256: mutSecretHash,
		GrantTypes: []string{tenant.GrantClientCredentials}}
	if err := tn.AddApplication(m2m); err != nil {
		t.Fatal(err)
	}
	if err := tn.AddClientGrant(tenant.ClientGrant{ClientID: "m2m", Audience: "https://temp.example", Scopes: []string{"t:read"}}); err != nil {
		t.Fatal(err)
	}
	if err := tn.UpdateClientGrant(tenant.ClientGrant{ClientID: "m2m", Audience: "https://temp.example"}); err != nil {
		t.Fatal(err)
	}
	if g := tn.ClientGrant("m2m", "https://temp.example"); g == nil || len(g.Scopes) != 0 {
		t.Errorf("grant after update = %+v", g)
	}
	// Deleting the API takes its client grants along.
	if err := tn.DeleteAPI("https://temp.example"); err != nil {
		t.Fatal(err)
	}
	if tn.API("https://temp.example") != nil || tn.ClientGrant("m2m", "https://temp.example") != nil {
		t.Error("DeleteAPI left the API or its grant")
	}
	if err := tn.AddUser(tenant.User{ID: "u1", Email: "u1@example.com", PasswordHash: mutBcrypt, Accounts: []string{"globex"}}); err != nil {
		t.Fatal(err)
	}
	if err := tn.UpdateUser("u1", tenant.User{Email: "U1@example.com", PasswordHash: mutBcrypt}); err != nil {
		t.Fatal(err)
	}
	if u := tn.UserByEmail("u1@example.com"); u == nil || len(u.Accounts) != 0 {
		t.Errorf("user after update = %+v", u)
	}
	// Deleting a user or an application takes its seed consents (and grants) along.
	if err := tn.DeleteUser("user-paul"); err != nil {
		t.Fatal(err)
	}
	if err := tn.DeleteApplication("acme-sync"); err != nil {
		t.Fatal(err)
	}
	for _, c := range tn.Config().Consents {
		if c.UserID == "user-paul" {
			t.Errorf("consent of the deleted user kept: %+v", c)
		}
	}
	if tn.ClientGrant("acme-sync", mutContacts) != nil || tn.Application("acme-sync") != nil {
		t.Error("DeleteApplication left the app or its grant")
	}
	if err := tn.DeleteClientGrant("contacts-importer", mutContacts); err != nil || tn.ClientGrant("contacts-importer", mutContacts) != nil {
		t.Errorf("DeleteClientGrant: %v", err)
	}
}

func TestMutationErrors(t *testing.T) {
	cases := []struct {
		name      string
		change    func(*tenant.Tenant) error
		is        error  // sentinel, or nil for a ValidationError
		field     string // first problem's field
		elsewhere bool
	}{
		{"duplicate app", func(tn *tenant.Tenant) error { return tn.AddApplication(mutApp("acme-cms")) }, tenant.ErrExists, "", false},
		{"unknown app", func(tn *tenant.Tenant) error { return tn.UpdateApplication("nope", mutApp("nope")) }, tenant.ErrNotFound, "", false},
		{"delete unknown app", func(tn *tenant.Tenant) error { return tn.DeleteApplication("nope") }, tenant.ErrNotFound, "", false},
		{"bad redirect", func(tn *tenant.Tenant) error {
			a := mutApp("x")
			a.RedirectURIs = []string{"http://evil.example/cb"}
			return tn.AddApplication(a)
		}, nil, "redirect_uris[0]", false},
		{"client_id changes", func(tn *tenant.Tenant) error { return tn.UpdateApplication("acme-cms", mutApp("other")) }, nil, "client_id", false},
		{"duplicate API", func(tn *tenant.Tenant) error {
			return tn.AddAPI(tenant.API{Name: "x", Identifier: mutContacts})
		}, tenant.ErrExists, "", false},
		{"bad API alg", func(tn *tenant.Tenant) error {
			return tn.AddAPI(tenant.API{Name: "x", Identifier: "https://x.example", SigningAlg: "RS257"})
		}, nil, "signing_alg", false},
		{"identifier changes", func(tn *tenant.Tenant) error {
			return tn.UpdateAPI(mutContacts, tenant.API{Name: "x", Identifier: "https://other.example"})
		}, nil, "identifier", false},
		{"delete the default audience", func(tn *tenant.Tenant) error { return tn.DeleteAPI(mutContacts) }, nil, "default_audience", true},
		{"grant for a non-m2m app", func(tn *tenant.Tenant) error {
			return tn.AddClientGrant(tenant.ClientGrant{ClientID: "acme-cms", Audience: mutContacts})
		}, nil, "client_id", false},
		{"grant with unknown scope", func(tn *tenant.Tenant) error {
			return tn.UpdateClientGrant(tenant.ClientGrant{ClientID: "acme-sync", Audience: mutContacts, Scopes: []string{"nope"}})
		}, nil, "scopes[0]", false},
		{"duplicate grant", func(tn *tenant.Tenant) error {
			return tn.AddClientGrant(tenant.ClientGrant{ClientID: "acme-sync", Audience: mutContacts})
		}, tenant.ErrExists, "", false},
		{"delete unknown grant", func(tn *tenant.Tenant) error { return tn.DeleteClientGrant("acme-cms", mutContacts) }, tenant.ErrNotFound, "", false},
		{"duplicate email", func(tn *tenant.Tenant) error {
			return tn.AddUser(tenant.User{ID: "u2", Email: "PAUL@globex.example", PasswordHash: mutBcrypt})
		}, nil, "email", false},
		{"user with unknown account", func(tn *tenant.Tenant) error {
			return tn.UpdateUser("user-paul", tenant.User{Email: "paul@globex.example", PasswordHash: mutBcrypt, Accounts: []string{"umbrella"}})
		}, nil, "accounts[0]", false},
		{"change refused by the callback", func(tn *tenant.Tenant) error {
			return tn.Update(func(*tenant.Config) error { return tenant.ErrNotFound })
		}, tenant.ErrNotFound, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tn := tenant.New(fixtureConfig(t))
			before := tn.Config()
			err := tc.change(tn)
			if err == nil {
				t.Fatal("the change was accepted")
			}
			if tn.Config() != before {
				t.Error("a refused change replaced the configuration")
			}
			if tc.is != nil {
				if !errors.Is(err, tc.is) {
					t.Errorf("error %v is not %v", err, tc.is)
				}
				return
			}
			var ve *tenant.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %T %v is not a ValidationError", err, err)
			}
			if ve.Problems[0].Field != tc.field || ve.Elsewhere != tc.elsewhere {
				t.Errorf("problems %+v (elsewhere %v), want field %q elsewhere %v", ve.Problems, ve.Elsewhere, tc.field, tc.elsewhere)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name %q", err, tc.field)
			}
		})
	}
}

// Writers serialise: each of many concurrent additions survives, and readers never lock or see a
// half-made configuration (run with -race).
func TestConcurrentMutationsLoseNothing(t *testing.T) {
	tn := tenant.New(fixtureConfig(t))
	const n = 40
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				if tn.Application("acme-cms") == nil {
					t.Error("a reader lost a fixed application")
					return
				}
			}
		}
	}()
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := tn.AddApplication(mutApp(fmt.Sprintf("app-%d", i))); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			err := tn.AddUser(tenant.User{ID: fmt.Sprintf("u-%d", i), Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: mutBcrypt})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	for i := range n {
		if tn.Application(fmt.Sprintf("app-%d", i)) == nil || tn.User(fmt.Sprintf("u-%d", i)) == nil {
			t.Errorf("addition %d was lost", i)
		}
	}
}
