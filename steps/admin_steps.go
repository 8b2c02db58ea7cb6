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
	sc.Step(`^the target issues (.+?) tokens that are already expired$`, issuesExpiredTokens)
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
	if r.status != 200 {
		return r, fmt.Errorf("admin API %s %s: expected HTTP 200, got %s", method, path, r)
	}
	return r, nil
}

// issuesExpiredTokens sets a token fault for the client, undone when the scenario ends.
func issuesExpiredTokens(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	c, err := w.target.Client(clientAlias)
	if err != nil {
		return err
	}
	fault := map[string]any{"tokens": []map[string]any{{"client_id": c.ClientID, "access_token_lifetime": "0s"}}}
	if _, err := admin(ctx, http.MethodPut, "/faults", fault); err != nil {
		return err
	}
	w.cleanups = append(w.cleanups, func(ctx context.Context) error {
		_, err := admin(ctx, http.MethodPut, "/faults", map[string]any{})
		return err
	})
	return nil
}
