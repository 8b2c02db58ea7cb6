package target

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Partner is a partner's OAuth client integration under certification (oauth-harness
// certify-client): the harness plays the authorization server, the API and the user, and checks
// what this app does.
type Partner struct {
	Name         string `yaml:"name"` // what the consent page calls it
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	RedirectURI  string `yaml:"redirect_uri"` // its callback, registered exactly
	// StartURL is the page where a user enables the integration; the browser starts there.
	StartURL string `yaml:"start_url"`
	// API is the alias of the API it calls (default "Contacts API"); Scopes what it asks of it.
	API    string   `yaml:"api"`
	Scopes []string `yaml:"scopes"`
	// UsesIDToken: the app signs users in with the ID token, so it must reject bad ones.
	UsesIDToken bool `yaml:"uses_id_token"`
	// Sync, when set, is how the harness makes the app sync in the background (refresh tokens).
	Sync *PartnerSync `yaml:"background_sync"`
	// EnabledSelector and ErrorSelector find, on the app's page after the callback, the sign that
	// the integration works and the message it shows when it does not.
	EnabledSelector string `yaml:"enabled_selector"`
	ErrorSelector   string `yaml:"error_selector"`
	User            string `yaml:"user"` // the user who enables it (default paul)
	// AuthMethod is how it authenticates at the token endpoint (default client_secret_basic).
	AuthMethod string `yaml:"token_endpoint_auth_method"`
}

// PartnerSync triggers one background sync: an HTTP request to the app.
type PartnerSync struct {
	URL    string `yaml:"url"`
	Method string `yaml:"method"` // default POST
}

// LoadPartner reads and checks a partner profile strictly.
func LoadPartner(path string) (*Partner, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("partner: %w", err)
	}
	p, err := ParsePartner(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePartner decodes a partner profile (unknown fields are errors), fills defaults and validates.
func ParsePartner(b []byte) (*Partner, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Partner
	if err := dec.Decode(&p); err != nil {
		if err.Error() == "EOF" {
			return nil, errors.New("partner: the profile is empty")
		}
		return nil, fmt.Errorf("partner: %w", err)
	}
	if p.API == "" {
		p.API = "Contacts API"
	}
	if p.User == "" {
		p.User = "paul"
	}
	if p.AuthMethod == "" {
		p.AuthMethod = "client_secret_basic"
	}
	if p.Sync != nil && p.Sync.Method == "" {
		p.Sync.Method = "POST"
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate names every bad field.
func (p *Partner) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	loopbackURL := func(field, v string) {
		u, err := url.Parse(v)
		switch {
		case v == "":
			bad(field, "is required")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad(field, "%q is not an http(s) URL", v)
		case u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1":
			// The harness's browser reaches loopback only; the app runs beside the harness.
			bad(field, "%q must be on loopback (127.0.0.1): run the app on this machine", v)
		}
	}
	for field, v := range map[string]string{"name": p.Name, "client_id": p.ClientID, "client_secret": p.ClientSecret,
		"enabled_selector": p.EnabledSelector, "error_selector": p.ErrorSelector} {
		if strings.TrimSpace(v) == "" {
			bad(field, "is required")
		}
	}
	loopbackURL("redirect_uri", p.RedirectURI)
	loopbackURL("start_url", p.StartURL)
	if p.AuthMethod != "client_secret_basic" && p.AuthMethod != "client_secret_post" {
		bad("token_endpoint_auth_method", "%q is not client_secret_basic or client_secret_post", p.AuthMethod)
	}
	if len(p.Scopes) == 0 {
		bad("scopes", "list the API scopes the app asks for")
	}
	if p.Sync != nil {
		loopbackURL("background_sync.url", p.Sync.URL)
		if m := p.Sync.Method; m != "GET" && m != "POST" {
			bad("background_sync.method", "%q is not GET or POST", m)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) }) // map order is random
	return fmt.Errorf("partner: %w", errors.Join(errs...))
}
