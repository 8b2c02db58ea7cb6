package steps

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"github.com/cucumber/godog"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

func refreshSteps(sc *godog.ScenarioContext) {
	step(sc, `^(.+?) holds a refresh token of (\w+) for "([^"]*)" on the (.+)$`, holdsRefreshToken)
	step(sc, `^(.+?) refreshes its token$`, refreshes)
	step(sc, `^(.+?) refreshes with the refresh token it has already used$`, refreshesWithUsed)
	step(sc, `^(.+?) refreshes with (.+?)'s refresh token$`, refreshesWithOthers)
	step(sc, `^(.+?) refreshes its token in (\d+) requests at once$`, refreshesAtOnce)
	step(sc, `^no refresh token was issued$`, noRefreshToken)
	step(sc, `^a new refresh token was issued$`, newRefreshToken)
}

// holdsRefreshToken signs the user in to the app (consenting if asked) and redeems the code: the
// app's "Enable integration" for background sync.
func holdsRefreshToken(ctx context.Context, clientAlias, userAlias, scopes, apiAlias string) (context.Context, error) {
	if api, err := worldOf(ctx).target.API(apiAlias); err == nil && !api.OfflineAccess {
		return ctx, notApplicable("the profile does not declare offline_access for the %s, so it need not give refresh tokens", apiAlias)
	}
	ctx, err := hasEnabled(ctx, userAlias, clientAlias, scopes, apiAlias)
	if err != nil {
		return ctx, err
	}
	if err := exchangesCode(ctx, clientAlias, ""); err != nil {
		return ctx, err
	}
	if err := tokenSucceeds(ctx); err != nil {
		return ctx, err
	}
	w := worldOf(ctx)
	if rt, _ := w.tokenReply.json["refresh_token"].(string); rt == "" {
		return ctx, fmt.Errorf("%s asked for %q and got no refresh token: %s", clientAlias, scopes, w.tokenReply)
	}
	w.tokens[clientAlias+" refresh"] = w.refreshToken
	return ctx, nil
}

func refresh(ctx context.Context, clientAlias, token string) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("%s holds no refresh token", clientAlias)
	}
	before := w.refreshToken
	w.refreshSent, w.refreshClient = token, clientAlias
	if err := requestToken(ctx, c, c.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}); err != nil {
		return err
	}
	if w.refreshToken != before {
		w.usedRefresh = append(w.usedRefresh, before)
	}
	return nil
}

// rotationRequired: RFC 9700 §4.14.2 makes refresh-token rotation (or sender-constraining) a MUST
// for public clients; for a confidential client it is the target's policy, checked when declared.
func (w *world) rotationRequired(c target.Client) bool {
	return authMethod(c) == "none" || w.target.Dialect.RefreshTokenRotation == target.RotationAll
}

func refreshes(ctx context.Context, clientAlias string) error {
	return refresh(ctx, clientAlias, worldOf(ctx).refreshToken)
}

func refreshesWithUsed(ctx context.Context, clientAlias string) error {
	w := worldOf(ctx)
	if len(w.usedRefresh) == 0 {
		if c, err := w.app(clientAlias); err == nil && !w.rotationRequired(c) && w.refreshSent != "" {
			return notApplicable("the target did not rotate %s's refresh token, which RFC 9700 §4.14.2 leaves to it for a confidential client: there is no used one to replay", clientAlias)
		}
		return fmt.Errorf("%s has not used a refresh token yet (or the target did not rotate it: %s)", clientAlias, w.tokenReply)
	}
	return refresh(ctx, clientAlias, w.usedRefresh[len(w.usedRefresh)-1])
}

func refreshesWithOthers(ctx context.Context, clientAlias, owner string) error {
	w := worldOf(ctx)
	rt := w.tokens[owner+" refresh"]
	if rt == "" {
		return fmt.Errorf("%s holds no refresh token", owner)
	}
	return refresh(ctx, clientAlias, rt)
}

func refreshesAtOnce(ctx context.Context, clientAlias string, n int) error {
	w := worldOf(ctx)
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	if w.refreshToken == "" {
		return fmt.Errorf("%s holds no refresh token", clientAlias)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.refreshToken}}
	if !w.rotationRequired(c) {
		w.unrotatedRefresh = w.refreshToken
	}
	return atOnce(ctx, n, func(ctx context.Context) (*reply, error) { return tokenRequest(ctx, c, c.ClientSecret, form) })
}

func noRefreshToken(ctx context.Context) error {
	w := worldOf(ctx)
	if f := w.flow; f != nil && f.api.OfflineAccess && slices.Contains(f.scopes, "offline_access") {
		return notApplicable("the profile declares offline_access for the API this asked for, so a refresh token is right")
	}
	r := w.tokenReply
	if r == nil || r.status != 200 {
		return fmt.Errorf("expected a successful token answer, got %s", r)
	}
	if rt, ok := r.json["refresh_token"]; ok {
		return fmt.Errorf("expected no refresh token, got %v in %s", rt, r)
	}
	return nil
}

func newRefreshToken(ctx context.Context) error {
	w := worldOf(ctx)
	r := w.tokenReply
	if r == nil || r.status != 200 {
		return fmt.Errorf("expected a successful token answer, got %s", r)
	}
	rt, _ := r.json["refresh_token"].(string)
	if rt == "" || rt == w.refreshSent {
		if c, err := w.app(w.refreshClient); err == nil && !w.rotationRequired(c) {
			return notApplicable("the target does not rotate %s's refresh tokens: RFC 9700 §4.14.2 requires rotation (or sender-constraining) of public clients' only; declare dialect.refresh_token_rotation: all to check it", w.refreshClient)
		}
	}
	switch {
	case rt == "":
		return fmt.Errorf("expected a new refresh token (rotation), got none: %s", r)
	case rt == w.refreshSent:
		return fmt.Errorf("the refresh token was not rotated: the answer carries the one just used")
	}
	return nil
}
