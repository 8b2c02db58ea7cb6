package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cucumber/godog"
)

func adminSteps(sc *godog.ScenarioContext) {
	step(sc, `^the target issues (.+?) tokens that are already expired$`, issuesExpiredTokens)
	step(sc, `^the target issues (.+?) tokens dated (\d+) minutes in the future$`, issuesFutureTokens)
	step(sc, `^the target issues (.+?) tokens naming the issuer "([^"]*)"$`, issuesTokensFromIssuer)
}

// admin calls the reference server's admin API (capability "admin").
func admin(ctx context.Context, method, path string, body any) (*reply, error) {
	w := worldOf(ctx)
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, strings.TrimSuffix(w.target.Issuer, "/")+"/admin"+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+w.target.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	r, err := w.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if r.status < 200 || r.status > 299 {
		return r, fmt.Errorf("admin API %s %s: expected HTTP 2xx, got %s", method, path, r)
	}
	return r, nil
}

// tokenFault sets a token fault for the client, undone when the scenario ends. Faults are global to
// the server, so scenarios that set them are tagged @isolated.
func tokenFault(ctx context.Context, clientAlias string, fault map[string]any) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	fault["client_id"] = c.ClientID
	if _, err := admin(ctx, http.MethodPut, "/faults", map[string]any{"tokens": []map[string]any{fault}}); err != nil {
		return err
	}
	w.cleanups = append(w.cleanups, func(ctx context.Context) error {
		_, err := admin(ctx, http.MethodPut, "/faults", map[string]any{})
		return err
	})
	return nil
}

func issuesExpiredTokens(ctx context.Context, clientAlias string) error {
	return tokenFault(ctx, clientAlias, map[string]any{"access_token_lifetime": "0s"})
}

func issuesFutureTokens(ctx context.Context, clientAlias string, minutes int) error {
	return tokenFault(ctx, clientAlias, map[string]any{"clock_skew": fmt.Sprintf("%dm", minutes)})
}

func issuesTokensFromIssuer(ctx context.Context, clientAlias, issuer string) error {
	return tokenFault(ctx, clientAlias, map[string]any{"issuer": issuer})
}
