package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Steps for checks where a specification allows a provider more than one answer: each allowed
// answer passes, and only what the clause forbids fails.
func policySteps(sc *godog.ScenarioContext) {
	step(sc, `^([A-Z].*?) is refused with "invalid_scope" or granted no "([^"]*)"$`, refusedOrGrantedWithout)
	step(sc, `^the token request is refused with "invalid_scope" or granted no "([^"]*)"$`, tokenRefusedOrWithout)
	step(sc, `^the token request is refused with one of "([^"]*)" and status (\d+)$`, tokenRefusedWithOneOf)
	step(sc, `^(.+?)'s code issued without a challenge is not redeemed with a code_verifier$`, downgradeRefused)
}

// downgradeRefused: RFC 9700 §4.8.2. A server that refuses every request without PKCE leaves no
// code to downgrade, which is a pass; otherwise a verifier for a code issued without a challenge
// must be refused (invalid_grant or invalid_request: both name the fault).
func downgradeRefused(ctx context.Context, clientAlias string) error {
	p, err := answered(ctx, clientAlias)
	if err != nil {
		return err
	}
	if p.Get("error") == "invalid_request" && p.Get("code") == "" {
		return nil // PKCE is required for this client: nothing to downgrade
	}
	if err := exchangesCode(ctx, clientAlias, "a code_verifier"); err != nil {
		return err
	}
	if err := tokenRefusedWithOneOf(ctx, "invalid_grant or invalid_request", 400); err != nil {
		return fmt.Errorf("a code issued without a code_challenge was redeemed with a code_verifier: %w", err)
	}
	return nil
}

// refusedOrGrantedWithout: RFC 6749 §3.3 lets the server refuse a scope it will not grant
// (invalid_scope, at the redirect URI with the state: §4.1.2.1) or grant less than was asked; then
// the token response must say what was granted (§5.1: scope is REQUIRED when it differs).
func refusedOrGrantedWithout(ctx context.Context, clientAlias, scope string) error {
	w := worldOf(ctx)
	p, err := answered(ctx, clientAlias)
	if err != nil {
		return err
	}
	if e := p.Get("error"); e != "" {
		if e != "invalid_scope" {
			return fmt.Errorf("%s expected invalid_scope or a code, got the error %q in %s", clientAlias, e, w.flow.response)
		}
		return nil
	}
	if err := receivesCode(ctx, clientAlias); err != nil {
		return err
	}
	if err := exchange(ctx, clientAlias, w.flow.code, w.flow.redirectURI, w.flow.verifier); err != nil {
		return err
	}
	if err := tokenSucceeds(ctx); err != nil {
		return fmt.Errorf("the server gave a code for a request with an unknown scope, then: %w", err)
	}
	return grantedWithout(ctx, scope)
}

func tokenRefusedOrWithout(ctx context.Context, scope string) error {
	r := worldOf(ctx).tokenReply
	if r == nil {
		return fmt.Errorf("no token request was made")
	}
	if r.status != 200 {
		return tokenRefusedWith(ctx, "invalid_scope", 400)
	}
	if err := tokenSucceeds(ctx); err != nil {
		return err
	}
	return grantedWithout(ctx, scope)
}

// grantedWithout checks the token response's scope member (RFC 6749 §5.1) leaves out scope.
func grantedWithout(ctx context.Context, scope string) error {
	w := worldOf(ctx)
	r := w.tokenReply
	refused := w.target.Scopes(scope)
	granted, ok := r.json["scope"].(string)
	if !ok {
		return fmt.Errorf("the token response grants less than was asked (%s left out?) but has no scope member, which RFC 6749 §5.1 requires then: %s", strings.Join(refused, " "), r)
	}
	for _, s := range strings.Fields(granted) {
		if slices.Contains(refused, s) {
			return fmt.Errorf("the token response grants %q, which includes %s", granted, s)
		}
	}
	if w.target.Dialect.AccessTokens.Format != target.FormatOpaque {
		if _, cl, err := claims(ctx); err == nil {
			for _, s := range strings.Fields(fmt.Sprint(cl["scope"])) {
				if slices.Contains(refused, s) {
					return fmt.Errorf("the access token's scope %q includes %s", cl["scope"], s)
				}
			}
		}
	}
	return nil
}

// tokenRefusedWithOneOf: where RFC 6749 §5.2's codes overlap (a PKCE downgrade is both a bad
// request and a bad grant), any of the listed codes is right.
func tokenRefusedWithOneOf(ctx context.Context, codes string, status int) error {
	if err := tokenRefused(ctx); err != nil {
		return err
	}
	r := worldOf(ctx).tokenReply
	if !slices.Contains(strings.Split(codes, " or "), fmt.Sprint(r.json["error"])) || r.status != status {
		return fmt.Errorf("token request: expected HTTP %d with one of %q, got %s", status, codes, r)
	}
	return nil
}
