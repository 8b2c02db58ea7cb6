package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cucumber/godog"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Dynamic client registration (RFC 7591): a partner registers its app at the registration endpoint.
func registrationSteps(sc *godog.ScenarioContext) {
	step(sc, `^a partner registers "([^"]*)" with the redirect URI "([^"]*)"$`, registers)
	step(sc, `^the registration succeeds with a client id and secret$`, registrationSucceeds)
	step(sc, `^the registration is refused with "([^"]*)"$`, registrationRefused)
}

func registers(ctx context.Context, name, redirectURI string) error {
	w := worldOf(ctx)
	ep, err := endpoint(ctx, "registration_endpoint")
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"client_name": name, "redirect_uris": []string{redirectURI},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "client_secret_basic"})
	req, err := http.NewRequest(http.MethodPost, ep, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.target.RegistrationToken != "" {
		req.Header.Set("Authorization", "Bearer "+w.target.RegistrationToken) // RFC 7591 §3: an initial access token
	}
	if w.apiReply, err = w.do(ctx, req); err != nil {
		return err
	}
	r := w.apiReply
	if r.status == http.StatusCreated && r.json != nil {
		id, _ := r.json["client_id"].(string)
		secret, _ := r.json["client_secret"].(string)
		w.extra[name] = target.Client{Name: name, ClientID: id, ClientSecret: secret, RedirectURI: redirectURI,
			AuthMethod: "client_secret_basic"}
		uri, _ := r.json["registration_client_uri"].(string)
		rat, _ := r.json["registration_access_token"].(string)
		if uri != "" && rat != "" { // RFC 7592 §2.3: the harness leaves no apps behind
			w.cleanups = append(w.cleanups, func(ctx context.Context) error { return unregister(ctx, uri, rat) })
		}
	}
	return nil
}

func unregister(ctx context.Context, uri, token string) error {
	req, err := http.NewRequest(http.MethodDelete, uri, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := worldOf(ctx).do(ctx, req)
	if err != nil {
		return err
	}
	if r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed {
		return nil // deletion is RFC 7592's, which a provider need not offer: nothing to clean up with
	}
	if r.status != http.StatusNoContent && r.status != http.StatusOK {
		return fmt.Errorf("deleting the registered client (RFC 7592 §2.3): expected HTTP 204, got %s", r)
	}
	return nil
}

func registrationSucceeds(ctx context.Context) error {
	r := worldOf(ctx).apiReply
	if r == nil || r.status != http.StatusCreated || r.json == nil {
		return fmt.Errorf("registration: expected HTTP 201 with the client's metadata (RFC 7591 §3.2.1), got %s", r)
	}
	if id, _ := r.json["client_id"].(string); id == "" {
		return fmt.Errorf("registration: the answer has no client_id: %s", r)
	}
	if s, _ := r.json["client_secret"].(string); s == "" {
		return fmt.Errorf("registration: a client_secret_basic client needs a client_secret, got %s", r)
	}
	return nil
}

func registrationRefused(ctx context.Context, code string) error {
	r := worldOf(ctx).apiReply
	if r == nil || r.status != http.StatusBadRequest || r.json == nil || r.json["error"] != code {
		return fmt.Errorf("registration: expected HTTP 400 with error %q (RFC 7591 §3.2.2), got %s", code, r)
	}
	return nil
}
