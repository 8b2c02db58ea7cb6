// Package servertest starts reference servers for tests: the default fixtures, a keyring generated
// once per test binary (RSA key generation dominates start-up otherwise), and cleanup on test end.
package servertest

import (
	"context"
	"sync"
	"testing"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

var sharedKeys = sync.OnceValues(keys.Generate)

// AdminToken is the admin API token of the servers Start runs (unless the test sets its own), so
// that tests can change the tenant, rotate keys and read the request log.
const AdminToken = "servertest-admin-token"

// Keys returns the keyring shared by the servers of this test binary.
func Keys(t testing.TB) *keys.Keyring {
	t.Helper()
	kr, err := sharedKeys()
	if err != nil {
		t.Fatalf("servertest: generate keys: %v", err)
	}
	return kr
}

// Tenant returns a fresh copy of the default tenant, for tests that change it before starting.
func Tenant(t testing.TB) *tenant.Config {
	t.Helper()
	cfg, err := fixtures.Tenant()
	if err != nil {
		t.Fatalf("servertest: default tenant: %v", err)
	}
	return cfg
}

// Credentials returns the plaintext credentials of the default tenant.
func Credentials(t testing.TB) *fixtures.Credentials {
	t.Helper()
	c, err := fixtures.DefaultCredentials()
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	return c
}

// Start runs a server on a free loopback port until the test ends. opts.Tenant defaults to the
// default fixtures, opts.Keys to a clone of the shared keyring (same keys, but a rotation through the
// admin API stays with this server) and opts.AdminToken to AdminToken.
func Start(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	if opts.Tenant == nil {
		opts.Tenant = Tenant(t)
	}
	if opts.Keys == nil {
		opts.Keys = Keys(t).Clone()
	}
	if opts.AdminToken == "" {
		opts.AdminToken = AdminToken
	}
	s, err := server.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("servertest: start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
