// Package scenario builds the load test's paths through an OAuth server as vegeta targeters:
// client credentials (per client authentication method), refresh with rotation, authorization code
// redemption, the API's token validation, introspection, userinfo, the JWKS, and a weighted mix.
// Everything a path needs beforehand (tokens, refresh tokens, codes) is obtained before the attack,
// from the same target profile as the conformance suite, so the attack measures only the path.
package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/oauth-harness/oauth-harness/steps/target"
)

// setupTimeout bounds each request made while preparing a scenario.
const setupTimeout = 15 * time.Second

// Endpoints are the target's endpoints, from its discovery document.
type Endpoints struct {
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Introspection string `json:"introspection_endpoint"`
	UserInfo      string `json:"userinfo_endpoint"`
	JWKS          string `json:"jwks_uri"`
	// IDTokenAlgs are the ID token signing algorithms, the first being the one in use.
	IDTokenAlgs []string `json:"id_token_signing_alg_values_supported"`
}

// All lists every endpoint URL, for the loopback check.
func (e Endpoints) All() []string {
	return []string{e.Authorization, e.Token, e.Introspection, e.UserInfo, e.JWKS}
}

// Env is a target ready for scenarios: its profile, its endpoints and the HTTP client that prepares
// scenarios (the attack has its own).
type Env struct {
	Profile   *target.Profile
	Endpoints Endpoints
	// Client sends the set-up requests. It must not follow redirects (logins read them).
	Client *http.Client

	mu       sync.Mutex
	sessions map[string]*session // logged-in users by client, user and audience: one login each
}

// NoRedirects is a CheckRedirect that hands every redirect back to the caller.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Discover reads the target's OpenID discovery document (RFC 8414's location as a fallback).
// client must not follow redirects; nil means a default client.
func Discover(ctx context.Context, p *target.Profile, client *http.Client) (*Env, error) {
	if client == nil {
		client = &http.Client{Timeout: setupTimeout, CheckRedirect: NoRedirects}
	}
	env := &Env{Profile: p, Client: client}
	issuer := strings.TrimSuffix(p.Issuer, "/")
	var errs []error
	for _, u := range []string{issuer + "/.well-known/openid-configuration", issuer + "/.well-known/oauth-authorization-server"} {
		status, body, err := env.get(ctx, u)
		switch {
		case err != nil:
			return nil, fmt.Errorf("the issuer %s is unreachable: %w", p.Issuer, err)
		case status != http.StatusOK:
			errs = append(errs, fmt.Errorf("GET %s: HTTP %d", u, status))
			continue
		}
		if err := json.Unmarshal(body, &env.Endpoints); err != nil {
			return nil, fmt.Errorf("the discovery document %s is not JSON: %w", u, err)
		}
		if env.Endpoints.Token == "" {
			return nil, fmt.Errorf("the discovery document %s has no token_endpoint", u)
		}
		return env, nil
	}
	return nil, fmt.Errorf("no discovery document at the issuer %s: %w", p.Issuer, errors.Join(errs...))
}

// get fetches u and reads at most 1 MiB of the answer.
func (e *Env) get(ctx context.Context, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	return e.do(req)
}

func (e *Env) do(req *http.Request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(req.Context(), setupTimeout)
	defer cancel()
	resp, err := e.Client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// session logs user in for client once per Env: a login costs the server a password hash, and
// several scenarios (and the mix) share it.
func (e *Env) session(ctx context.Context, client target.Client, user target.User, audience string) (*session, error) {
	key := client.ClientID + "\x00" + user.Username + "\x00" + audience
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.sessions[key]; s != nil {
		return s, nil
	}
	s, err := login(ctx, e, client, user, audience)
	if err != nil {
		return nil, err
	}
	if e.sessions == nil {
		e.sessions = map[string]*session{}
	}
	e.sessions[key] = s
	return s, nil
}
