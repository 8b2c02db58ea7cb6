// Package faults injects failures for clients under test, so the harness can check that a client
// copes: added latency and a share of 5xx answers per endpoint and/or client (the HTTP middleware
// here), and per-client changes to the tokens it gets (short-lived or already expired access tokens,
// clock skew, tampered ID tokens), which the token endpoint applies. Key rotation without overlap is
// the admin API's key rotation with overlap 0.
//
// With no faults configured every check is one atomic load.
package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Duration is a time.Duration written in JSON as a Go duration string ("250ms").
type Duration time.Duration

// UnmarshalJSON parses a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string like \"250ms\": %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"250ms\"", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Rule slows down or fails requests to Path (relative to the issuer; empty: every path) from
// ClientID (empty: every client).
type Rule struct {
	Path      string   `json:"path,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Latency   Duration `json:"latency,omitempty"`
	ErrorRate float64  `json:"error_rate,omitempty"` // share of requests answered with Status, 0 to 1
	Status    int      `json:"status,omitempty"`     // 503 when empty
	// Times limits the rule to the next n matching requests (0: all of them): "the next two token
	// requests fail" is how a client's retry with back-off is checked.
	Times int `json:"times,omitempty"`
}

// ID token tampering, for clients that must reject a bad ID token.
const (
	IDTokenWrongNonce   = "wrong-nonce"
	IDTokenWrongIssuer  = "wrong-iss"
	IDTokenWrongAud     = "wrong-aud"
	IDTokenBadSignature = "bad-signature"
)

// TokenFault changes the tokens issued to one client.
type TokenFault struct {
	ClientID string `json:"client_id"`
	// AccessTokenLifetime overrides the API's lifetime; "0s" issues tokens that are already expired.
	AccessTokenLifetime *Duration `json:"access_token_lifetime,omitempty"`
	// ClockSkew shifts iat, exp and auth_time as if the server's clock were off by this much.
	ClockSkew Duration `json:"clock_skew,omitempty"`
	// IDToken tampers with ID tokens: wrong-nonce, wrong-iss, wrong-aud or bad-signature.
	IDToken string `json:"id_token,omitempty"`
	// Issuer replaces the iss of access tokens, still signed with the server's key: what a token
	// from another tenant sharing the keys looks like to an API.
	Issuer string `json:"issuer,omitempty"`
}

// Config is every fault in force.
type Config struct {
	Rules  []Rule         `json:"rules"`
	Tokens []TokenFault   `json:"tokens"`
	used   []atomic.Int64 // matching requests seen per rule, for Times
}

// Validate checks a configuration and names the bad field.
func (c *Config) Validate() error {
	for i, r := range c.Rules {
		switch {
		case r.ErrorRate < 0 || r.ErrorRate > 1:
			return fmt.Errorf("rules[%d].error_rate: %v is not between 0 and 1", i, r.ErrorRate)
		case r.Status != 0 && (r.Status < 500 || r.Status > 599):
			return fmt.Errorf("rules[%d].status: %d is not a 5xx status", i, r.Status)
		case r.Latency < 0 || time.Duration(r.Latency) > time.Minute:
			return fmt.Errorf("rules[%d].latency: must be between 0 and 1m", i)
		case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
			return fmt.Errorf("rules[%d].path: %q must start with /", i, r.Path)
		case r.Latency == 0 && r.ErrorRate == 0:
			return fmt.Errorf("rules[%d]: set latency or error_rate", i)
		case r.Times < 0:
			return fmt.Errorf("rules[%d].times: must not be negative", i)
		}
	}
	seen := map[string]bool{}
	for i, t := range c.Tokens {
		switch {
		case t.ClientID == "":
			return fmt.Errorf("tokens[%d].client_id: is required", i)
		case seen[t.ClientID]:
			return fmt.Errorf("tokens[%d].client_id: %q has another entry", i, t.ClientID)
		case t.AccessTokenLifetime != nil && *t.AccessTokenLifetime < 0:
			return fmt.Errorf("tokens[%d].access_token_lifetime: must not be negative", i)
		case t.Issuer != "" && !isAbsoluteURL(t.Issuer):
			return fmt.Errorf("tokens[%d].issuer: %q is not an absolute URL", i, t.Issuer)
		}
		switch t.IDToken {
		case "", IDTokenWrongNonce, IDTokenWrongIssuer, IDTokenWrongAud, IDTokenBadSignature:
		default:
			return fmt.Errorf("tokens[%d].id_token: %q is not wrong-nonce, wrong-iss, wrong-aud or bad-signature", i, t.IDToken)
		}
		seen[t.ClientID] = true
	}
	return nil
}

// Faults holds the configuration in force. The zero value injects nothing.
type Faults struct {
	cfg atomic.Pointer[Config]
}

// Set validates and installs cfg (an empty Config removes every fault).
func (f *Faults) Set(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	if len(cfg.Rules) == 0 && len(cfg.Tokens) == 0 {
		f.cfg.Store(nil)
		return nil
	}
	cfg.used = make([]atomic.Int64, len(cfg.Rules))
	f.cfg.Store(&cfg)
	return nil
}

// Get returns the configuration in force.
func (f *Faults) Get() Config {
	if c := f.cfg.Load(); c != nil {
		return *c
	}
	return Config{Rules: []Rule{}, Tokens: []TokenFault{}}
}

// ForClient returns the token fault for clientID, or nil.
func (f *Faults) ForClient(clientID string) *TokenFault {
	if f == nil {
		return nil
	}
	c := f.cfg.Load()
	if c == nil {
		return nil
	}
	for i := range c.Tokens {
		if c.Tokens[i].ClientID == clientID {
			return &c.Tokens[i]
		}
	}
	return nil
}

// Middleware applies the rules to requests below prefix (the issuer's path).
func (f *Faults) Middleware(next http.Handler, prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := f.cfg.Load()
		if c == nil || len(c.Rules) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		path := strings.TrimPrefix(r.URL.Path, prefix)
		client := ""
		for i, rule := range c.Rules {
			if rule.Path != "" && rule.Path != path {
				continue
			}
			if rule.ClientID != "" {
				if client == "" {
					client = clientOf(r)
				}
				if client != rule.ClientID {
					continue
				}
			}
			if rule.Times > 0 && c.used[i].Add(1) > int64(rule.Times) {
				continue
			}
			if !apply(w, r, rule) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// apply waits the rule's latency and maybe fails the request; it returns false when it answered.
func apply(w http.ResponseWriter, r *http.Request, rule Rule) bool {
	if rule.Latency > 0 && !sleep(r.Context(), time.Duration(rule.Latency)) {
		return false
	}
	if rule.ErrorRate > 0 && rand.Float64() < rule.ErrorRate {
		status := rule.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"fault injected by the test harness"}` + "\n"))
		return false
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// clientOf finds the client a request comes from: Basic credentials, or client_id in the query or
// form body. Reading the form here leaves it parsed for the handler.
func clientOf(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
		return id
	}
	if id := r.URL.Query().Get("client_id"); id != "" {
		return id
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		if r.ParseForm() == nil {
			return r.PostForm.Get("client_id")
		}
	}
	return ""
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != ""
}
