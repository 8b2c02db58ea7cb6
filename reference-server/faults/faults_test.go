package faults_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/faults"
)

func ok() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // the handler still sees the form the middleware read
		_, _ = w.Write([]byte("ok " + r.PostForm.Get("client_id")))
	})
}

func TestNoFaultsPassThrough(t *testing.T) {
	var f faults.Faults
	w := httptest.NewRecorder()
	f.Middleware(ok(), "").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/token", nil))
	if w.Code != http.StatusOK || f.ForClient("x") != nil {
		t.Fatalf("status %d without faults", w.Code)
	}
}

func TestErrorRateAppliesToItsPathAndClientOnly(t *testing.T) {
	var f faults.Faults
	if err := f.Set(faults.Config{Rules: []faults.Rule{{Path: "/token", ClientID: "acme-cms", ErrorRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	h := f.Middleware(ok(), "/tenant")
	post := func(path, client string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(url.Values{"client_id": {client}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := post("/tenant/token", "acme-cms"); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "temporarily_unavailable") {
		t.Errorf("faulted client: %d %s", w.Code, w.Body)
	}
	if w := post("/tenant/token", "contacts-web"); w.Code != http.StatusOK || w.Body.String() != "ok contacts-web" {
		t.Errorf("other client: %d %s (the handler must still see the form)", w.Code, w.Body)
	}
	if w := post("/tenant/userinfo", "acme-cms"); w.Code != http.StatusOK {
		t.Errorf("other path: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodPost, "/tenant/token", nil)
	r.SetBasicAuth("acme-cms", "secret")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("client in Basic credentials: %d, want 503", w.Code)
	}
}

func TestErrorRateIsAShare(t *testing.T) {
	var f faults.Faults
	if err := f.Set(faults.Config{Rules: []faults.Rule{{ErrorRate: 0.3, Status: 500}}}); err != nil {
		t.Fatal(err)
	}
	h := f.Middleware(ok(), "")
	failed := 0
	const n = 4000
	for range n {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
		if w.Code == http.StatusInternalServerError {
			failed++
		}
	}
	if share := float64(failed) / n; share < 0.25 || share > 0.35 {
		t.Errorf("share of failures %.3f, want about 0.3", share)
	}
}

func TestLatencyIsAddedAndCancellable(t *testing.T) {
	var f faults.Faults
	if err := f.Set(faults.Config{Rules: []faults.Rule{{Path: "/slow", Latency: faults.Duration(50 * time.Millisecond)}}}); err != nil {
		t.Fatal(err)
	}
	h := f.Middleware(ok(), "")
	start := time.Now()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/slow", nil))
	if d := time.Since(start); d < 50*time.Millisecond || w.Code != http.StatusOK {
		t.Errorf("took %v with status %d, want at least 50ms and 200", d, w.Code)
	}
}

func TestConfigValidationNamesTheField(t *testing.T) {
	life := faults.Duration(-time.Second)
	cases := map[string]faults.Config{
		"rules[0].error_rate":             {Rules: []faults.Rule{{ErrorRate: 2}}},
		"rules[0].status":                 {Rules: []faults.Rule{{ErrorRate: 1, Status: 404}}},
		"rules[0].path":                   {Rules: []faults.Rule{{Path: "token", ErrorRate: 1}}},
		"rules[0]: set latency":           {Rules: []faults.Rule{{Path: "/token"}}},
		"tokens[0].client_id":             {Tokens: []faults.TokenFault{{}}},
		"tokens[1].client_id":             {Tokens: []faults.TokenFault{{ClientID: "a"}, {ClientID: "a"}}},
		"tokens[0].id_token":              {Tokens: []faults.TokenFault{{ClientID: "a", IDToken: "garbled"}}},
		"tokens[0].access_token_lifetime": {Tokens: []faults.TokenFault{{ClientID: "a", AccessTokenLifetime: &life}}},
		"tokens[0].issuer":                {Tokens: []faults.TokenFault{{ClientID: "a", Issuer: "not a url"}}},
	}
	for field, cfg := range cases {
		var f faults.Faults
		if err := f.Set(cfg); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}

func TestTokenFaultsRoundTripThroughJSON(t *testing.T) {
	var cfg faults.Config
	in := `{"tokens":[{"client_id":"acme-cms","access_token_lifetime":"0s","clock_skew":"-90s","id_token":"wrong-nonce"}]}`
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	var f faults.Faults
	if err := f.Set(cfg); err != nil {
		t.Fatal(err)
	}
	tf := f.ForClient("acme-cms")
	if tf == nil || tf.AccessTokenLifetime == nil || *tf.AccessTokenLifetime != 0 || time.Duration(tf.ClockSkew) != -90*time.Second || tf.IDToken != faults.IDTokenWrongNonce {
		t.Fatalf("ForClient = %+v", tf)
	}
	if f.ForClient("contacts-web") != nil {
		t.Error("a fault for another client")
	}
	if err := json.Unmarshal([]byte(`{"rules":[{"latency":"soon"}]}`), &cfg); err == nil {
		t.Error("a bad duration was accepted")
	}
	_ = f.Set(faults.Config{})
	if f.ForClient("acme-cms") != nil || len(f.Get().Tokens) != 0 {
		t.Error("an empty config must remove every fault")
	}
}

// Times: the next n matching requests fail, then the rule is spent (what a retry test needs).
func TestTimesLimitsARuleToTheNextRequests(t *testing.T) {
	var f faults.Faults
	if err := f.Set(faults.Config{Rules: []faults.Rule{{Path: "/token", ErrorRate: 1, Times: 2}}}); err != nil {
		t.Fatal(err)
	}
	h := f.Middleware(ok(), "")
	var got []int
	for range 4 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/token", nil))
		got = append(got, w.Code)
	}
	if want := []int{503, 503, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if err := f.Set(faults.Config{Rules: []faults.Rule{{Path: "/token", ErrorRate: 1, Times: -1}}}); err == nil || !strings.Contains(err.Error(), "rules[0].times") {
		t.Errorf("negative times: err = %v", err)
	}
}
