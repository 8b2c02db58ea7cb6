package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
)

func discoverySteps(sc *godog.ScenarioContext) {
	step(sc, `^a client reads the discovery document$`, readDiscovery)
	step(sc, `^the document's issuer is the target's issuer$`, documentIssuerIsTarget)
	step(sc, `^the document names https authorization, token and JWKS endpoints$`, endpointsAreHTTPS)
	step(sc, `^the OAuth authorization server metadata names the same issuer and endpoints$`, oauthMetadataAgrees)
	step(sc, `^a client reads the JWKS$`, readJWKS)
	step(sc, `^every key has a kid$`, everyKeyHasKid)
	step(sc, `^no two keys share a kid$`, kidsAreUnique)
	step(sc, `^no key carries private material$`, noPrivateMaterial)
}

// discover reads the provider's metadata once per scenario: the OpenID configuration (OIDC
// Discovery §4), else RFC 8414's authorization server metadata, for a plain OAuth server.
func discover(ctx context.Context) (map[string]any, error) {
	w := worldOf(ctx)
	if w.discovery != nil {
		return w.discovery, nil
	}
	var tried []string
	for _, u := range []string{wellKnown(w.target.Issuer, "openid-configuration"), rfc8414Location(w.target.Issuer)} {
		r, err := w.get(ctx, u)
		if err != nil {
			return nil, err
		}
		if r.status == 200 && r.json != nil {
			w.discovery = r.json
			return w.discovery, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %s", u, r))
	}
	return nil, fmt.Errorf("discovery: no metadata document answered HTTP 200 with a JSON object (%s)", strings.Join(tried, "; "))
}

// wellKnown is OIDC Discovery §4.1's location: the issuer, less a trailing slash, then
// /.well-known/ and the name.
func wellKnown(issuer, name string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/" + name
}

// rfc8414Location is RFC 8414 §3.1's: /.well-known/oauth-authorization-server between the
// issuer's host and its path.
func rfc8414Location(issuer string) string {
	iss, err := url.Parse(strings.TrimSuffix(issuer, "/"))
	if err != nil {
		return wellKnown(issuer, "oauth-authorization-server")
	}
	return iss.Scheme + "://" + iss.Host + "/.well-known/oauth-authorization-server" + iss.Path
}

func readDiscovery(ctx context.Context) error { _, err := discover(ctx); return err }

func documentIssuerIsTarget(ctx context.Context) error {
	d, err := discover(ctx)
	if err != nil {
		return err
	}
	if got, want := d["issuer"], worldOf(ctx).target.Issuer; got != want {
		return fmt.Errorf("issuer: expected %q, got %v", want, got)
	}
	return nil
}

// endpointsAreHTTPS: OIDC Discovery §3 and RFC 8414 §2 want https URLs; loopback http is how a
// provider runs on a developer's machine. Nothing asks for them to share the issuer's host.
func endpointsAreHTTPS(ctx context.Context) error {
	d, err := discover(ctx)
	if err != nil {
		return err
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri"} {
		s, _ := d[k].(string)
		u, err := url.Parse(s)
		if s == "" || err != nil || !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("%s: expected an absolute URL, got %q", k, s)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
			return fmt.Errorf("%s: expected an https (or loopback http) URL, got %q", k, s)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// oauthMetadataAgrees reads RFC 8414 metadata at its well-known location (before the issuer's path).
func oauthMetadataAgrees(ctx context.Context) error {
	d, err := discover(ctx)
	if err != nil {
		return err
	}
	w := worldOf(ctx)
	r, err := w.get(ctx, rfc8414Location(w.target.Issuer))
	if err != nil {
		return err
	}
	if r.status != 200 || r.json == nil {
		return fmt.Errorf("OAuth metadata: want HTTP 200 with a JSON object, got %s", r)
	}
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"} {
		if r.json[k] != d[k] {
			return fmt.Errorf("%s: the OpenID configuration says %v, the OAuth metadata says %v", k, d[k], r.json[k])
		}
	}
	return nil
}

func readJWKS(ctx context.Context) error {
	d, err := discover(ctx)
	if err != nil {
		return err
	}
	w := worldOf(ctx)
	uri, _ := d["jwks_uri"].(string)
	if uri == "" {
		return fmt.Errorf("the discovery document has no jwks_uri")
	}
	r, err := w.get(ctx, uri)
	if err != nil {
		return err
	}
	if r.status != 200 {
		return fmt.Errorf("JWKS: want HTTP 200, got %s", r)
	}
	w.jwks = r
	return nil
}

// jwksKeys returns the JWKS members as raw JSON objects, so the checks see exactly what was sent.
func jwksKeys(ctx context.Context) ([]map[string]any, error) {
	w := worldOf(ctx)
	if w.jwks == nil {
		if err := readJWKS(ctx); err != nil {
			return nil, err
		}
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.jwks.body, &set); err != nil || len(set.Keys) == 0 {
		return nil, fmt.Errorf("JWKS: expected {\"keys\": [...]} with at least one key, got %s", w.jwks)
	}
	return set.Keys, nil
}

func everyKeyHasKid(ctx context.Context) error {
	keys, err := jwksKeys(ctx)
	if err != nil {
		return err
	}
	for i, k := range keys {
		if kid, _ := k["kid"].(string); kid == "" {
			return fmt.Errorf("key %d (%v) has no kid", i, k["kty"])
		}
	}
	return nil
}

func kidsAreUnique(ctx context.Context) error {
	keys, err := jwksKeys(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, k := range keys {
		kid, _ := k["kid"].(string)
		if seen[kid] {
			return fmt.Errorf("kid %q is used by two keys", kid)
		}
		seen[kid] = true
	}
	return nil
}

func noPrivateMaterial(ctx context.Context) error {
	keys, err := jwksKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[member]; ok {
				return fmt.Errorf("key %v publishes the private member %q", k["kid"], member)
			}
		}
	}
	return nil
}
