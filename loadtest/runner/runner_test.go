package runner

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	"github.com/oauth-harness/oauth-harness/loadtest/stats"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func getScenario(url string) *scenario.Scenario {
	return &scenario.Scenario{Name: "fake", Targeter: vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: url})}
}

func TestAttackAtAFixedRate(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer ts.Close()
	sc := getScenario(ts.URL)
	var observed int
	sc.Observe = func(r *vegeta.Result) {
		observed++
		if string(r.Body) != "ok" {
			t.Errorf("Observe saw body %q", r.Body)
		}
	}
	var got []*vegeta.Result
	before := 0
	err := Attack(context.Background(), sc, 100, time.Second, "fake", NewClient(Options{}), Options{BeforeAttack: func() { before++ }},
		func(r *vegeta.Result) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 90 || len(got) > 101 || observed != len(got) || before != 1 {
		t.Errorf("%d results, %d observed, BeforeAttack %d times", len(got), observed, before)
	}
	if got[0].Body != nil || got[0].Attack != "fake" || got[0].Code != 200 {
		t.Errorf("result %+v: bodies are dropped after Observe, the attack is named", got[0])
	}
}

func TestATargeterErrorStopsTheAttack(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ts.Close()
	var mu sync.Mutex
	n := 0
	sc := &scenario.Scenario{Name: "dry", Targeter: func(tg *vegeta.Target) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n > 20 {
			return errors.New("pool ran dry")
		}
		*tg = vegeta.Target{Method: http.MethodGet, URL: ts.URL}
		return nil
	}}
	var count int
	err := Attack(context.Background(), sc, 200, 5*time.Second, "dry", NewClient(Options{}), Options{}, func(*vegeta.Result) { count++ })
	if !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "pool ran dry") {
		t.Fatalf("err = %v", err)
	}
	if count != 20 {
		t.Errorf("%d results, want the 20 sent", count)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		rate float64
		du   time.Duration
	}{{0, time.Second}, {10, 0}, {10, time.Hour}, {MaxRate + 1, time.Second}, {math.NaN(), time.Second}} {
		if Validate(c.rate, c.du) == nil {
			t.Errorf("rate %v duration %v accepted", c.rate, c.du)
		}
	}
	for _, s := range []Search{{Start: 100, Max: 10}, {Step: 2 * time.Minute}, {Budget: time.Hour}, {MaxSteps: 100}, {Resolution: 2}} {
		if s.Validate() == nil {
			t.Errorf("search %+v accepted", s)
		}
	}
}

func TestNextRate(t *testing.T) {
	s := Search{}
	s.defaults()
	inf := math.Inf(1)
	for _, c := range []struct {
		lo, hi, want float64
		stop         bool
	}{
		{50, inf, 100, false},  // doubling
		{400, 800, 600, false}, // bisecting
		{0, 50, 25, false},     // the first step missed
		{500, 540, 0, true},    // within 10%
		{20000, inf, 0, true},  // the maximum held
		{0, 1, 0, true},        // nothing holds
		{15000, inf, 20000, false},
	} {
		got, why := nextRate(c.lo, c.hi, s)
		if (why != "") != c.stop || (!c.stop && got != c.want) {
			t.Errorf("nextRate(%v, %v) = %v, %q", c.lo, c.hi, got, why)
		}
	}
}

// slowAbove answers at once while requests arrive at most limit per second, and 300 ms late above
// (measured over the last 200 ms): a server with a capacity.
type slowAbove struct {
	limit float64
	mu    sync.Mutex
	times []time.Time
}

func (s *slowAbove) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	s.mu.Lock()
	s.times = append(s.times, now)
	i := 0
	for i < len(s.times) && now.Sub(s.times[i]) > 200*time.Millisecond {
		i++
	}
	s.times = s.times[i:]
	rate := float64(len(s.times)) * 5
	s.mu.Unlock()
	if rate > s.limit {
		time.Sleep(300 * time.Millisecond)
	}
}

func TestFindMaxStopsWhereTheServerSlowsDown(t *testing.T) {
	srv := &slowAbove{limit: 160}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	sc := getScenario(ts.URL)
	var steps []Step
	res, err := FindMax(context.Background(), sc, SLO{P99: 150 * time.Millisecond, Success: 1},
		Search{Start: 20, Max: 2000, Step: 600 * time.Millisecond, Pause: 50 * time.Millisecond, MaxSteps: 10, Budget: 20 * time.Second, Resolution: 0.2},
		NewClient(Options{}), Options{}, func(*vegeta.Result) {}, func(s Step) { steps = append(steps, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(res.Steps) || res.Stopped == "" {
		t.Fatalf("steps %d/%d, stopped %q", len(steps), len(res.Steps), res.Stopped)
	}
	// On a busy machine latency is noisy: the search must land in the right region, not on the dot.
	if res.Best < 40 || res.Best > 320 {
		t.Errorf("best %v/s, want near 160/s; steps:", res.Best)
		for _, s := range res.Steps {
			t.Logf("%v/s pass=%v %s", s.Rate, s.Pass, s.Why)
		}
	}
	if res.BestAt == nil || res.BestAt.Rate != res.Best || !res.BestAt.Pass {
		t.Errorf("BestAt %+v", res.BestAt)
	}
}

func TestFindMaxIsBounded(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ts.Close()
	res, err := FindMax(context.Background(), getScenario(ts.URL), SLO{P99: time.Second, Success: 1},
		Search{Start: 10, Max: 10000, Step: 200 * time.Millisecond, Pause: 10 * time.Millisecond, MaxSteps: 3, Budget: 10 * time.Second},
		NewClient(Options{}), Options{}, func(*vegeta.Result) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 3 || !strings.Contains(res.Stopped, "step limit") {
		t.Errorf("%d steps, stopped %q", len(res.Steps), res.Stopped)
	}
	res, err = FindMax(context.Background(), getScenario(ts.URL), SLO{P99: time.Second, Success: 1},
		Search{Start: 10, Step: 300 * time.Millisecond, Pause: 10 * time.Millisecond, Budget: 700 * time.Millisecond},
		NewClient(Options{}), Options{}, func(*vegeta.Result) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) > 2 || !strings.Contains(res.Stopped, "budget") {
		t.Errorf("%d steps, stopped %q", len(res.Steps), res.Stopped)
	}
}

func TestJudge(t *testing.T) {
	slo := SLO{P99: 10 * time.Millisecond, Success: 1}
	ok, _ := judge(slo, 0.95, 100, summary(100, 1, 5*time.Millisecond), nil)
	if !ok {
		t.Error("a good step missed")
	}
	for why, s := range map[string]struct {
		rate, success float64
		p99           time.Duration
	}{"sent only": {50, 1, time.Millisecond}, "success": {100, 0.99, time.Millisecond}, "p99": {100, 1, 20 * time.Millisecond}} {
		ok, got := judge(slo, 0.95, 100, summary(s.rate, s.success, s.p99), nil)
		if ok || !strings.Contains(got, why) {
			t.Errorf("judge = %v, %q; want a miss for %s", ok, got, why)
		}
	}
}

func summary(rate, success float64, p99 time.Duration) stats.Summary {
	s := stats.Summary{Requests: 100, Rate: rate, SuccessRatio: success}
	s.Latency.P99 = p99
	return s
}

func TestExplainAddsTheOAuthError(t *testing.T) {
	r := &vegeta.Result{Code: 401, Error: "401 Unauthorized", Body: []byte(`{"error":"invalid_client","error_description":"too many assertions in flight"}`)}
	explain(r)
	if r.Error != "401 Unauthorized: invalid_client: too many assertions in flight" {
		t.Errorf("error %q", r.Error)
	}
	ok := &vegeta.Result{Code: 500, Error: "500 Internal Server Error", Body: []byte("<html>")}
	explain(ok)
	if ok.Error != "500 Internal Server Error" {
		t.Errorf("error %q", ok.Error)
	}
}
