// Package runner attacks a scenario with vegeta: at a fixed rate for a duration, or in a bounded
// search for the highest rate that holds a latency and success objective. It hands every result,
// after the scenario has looked at it, to the caller's sink.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/netguard"
	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Limits every run is held to.
const (
	MaxDuration = 30 * time.Minute
	MaxRate     = 100_000
)

// Options shape an attack.
type Options struct {
	// Workers caps the requests in flight (vegeta's max workers); 0 means DefaultWorkers.
	Workers uint64
	// Timeout bounds each request; 0 means 10 s.
	Timeout time.Duration
	// AllowNonLoopback lets the attack connect to addresses outside 127.0.0.0/8 and ::1.
	AllowNonLoopback bool
	// BeforeAttack, when set, runs after the scenario is prepared and right before the attack: the
	// place to read a server's CPU time without the preparation in it.
	BeforeAttack func()
	// KeepBodies keeps response bodies and headers in the results handed to the sink (by default
	// they are dropped once the scenario has looked at them: the result files stay small).
	KeepBodies bool
}

// DefaultWorkers is generous for one loopback server and bounds the goroutines of a run that
// outpaces the server.
const DefaultWorkers = 256

func (o Options) workers() uint64 {
	if o.Workers == 0 {
		return DefaultWorkers
	}
	return o.Workers
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 10 * time.Second
	}
	return o.Timeout
}

// NewClient is the attack's HTTP client: keep-alive connections, one per worker, redirects not
// followed (a redirect is an answer), and the loopback guard at connect time.
func NewClient(o Options) *http.Client {
	return &http.Client{
		Timeout: o.timeout(),
		Transport: &http.Transport{
			DialContext:         netguard.Dialer(o.AllowNonLoopback).DialContext,
			MaxIdleConnsPerHost: int(min(o.workers(), 10_000)),
			IdleConnTimeout:     30 * time.Second,
		},
		CheckRedirect: scenario.NoRedirects,
	}
}

// ErrStopped says the scenario's targeter stopped the attack (a pool ran dry): the results so far are
// valid, but the run did not last its duration.
var ErrStopped = errors.New("the attack stopped early")

// Validate refuses a rate or duration outside the bounds every run keeps.
func Validate(rate float64, du time.Duration) error {
	switch {
	case math.IsNaN(rate) || rate < 1 || rate > MaxRate:
		return fmt.Errorf("the rate must be from 1 to %d requests per second, not %v", MaxRate, rate)
	case du <= 0:
		return errors.New("a duration is required: every run is bounded in time")
	case du > MaxDuration:
		return fmt.Errorf("the duration %v is over the %v limit", du, MaxDuration)
	}
	return nil
}

// Attack runs sc at rate requests per second for du and gives every result to sink, from one
// goroutine, in the order answers arrive. name labels the results (vegeta's attack name). It
// prepares the scenario first. It returns ErrStopped (wrapped with the reason) if the targeter
// stopped the attack, and ctx's error if ctx ended it; the results until then went to sink.
func Attack(ctx context.Context, sc *scenario.Scenario, rate float64, du time.Duration, name string, client *http.Client,
	o Options, sink func(*vegeta.Result)) error {
	if err := Validate(rate, du); err != nil {
		return err
	}
	if sc.Prepare != nil {
		if err := sc.Prepare(ctx, int(math.Ceil(rate*du.Seconds()))); err != nil {
			return fmt.Errorf("prepare %s: %w", sc.Name, err)
		}
	}
	if o.BeforeAttack != nil {
		o.BeforeAttack()
	}
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(min(o.workers(), vegeta.DefaultWorkers)),
		vegeta.MaxWorkers(o.workers()), vegeta.MaxBody(-1))
	pacer := pace(rate)
	results := atk.Attack(sc.Targeter, pacer, du, name)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	var stopped string
	for r := range results {
		if r.URL == "" && r.Error != "" {
			// The targeter refused: vegeta stops and reports it as a result without a request.
			stopped = r.Error
			continue
		}
		if sc.Observe != nil {
			sc.Observe(r)
		}
		explain(r)
		if !o.KeepBodies {
			r.Body, r.Headers = nil, nil
		}
		sink(r)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if stopped != "" {
		return fmt.Errorf("%w: %s", ErrStopped, stopped)
	}
	return nil
}

// explain adds an OAuth error answer's error and description to the result's error ("401
// Unauthorized: invalid_client: ..."): the status alone rarely says what went wrong.
func explain(r *vegeta.Result) {
	if r.Code < 400 || len(r.Body) == 0 || len(r.Body) > 4096 || r.Body[0] != '{' {
		return
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(r.Body, &e) != nil || e.Error == "" {
		return
	}
	r.Error += ": " + e.Error
	if e.Description != "" {
		r.Error += ": " + e.Description
	}
}

// pace is a constant pacer for a possibly fractional rate.
func pace(rate float64) vegeta.Pacer {
	if rate == math.Trunc(rate) {
		return vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}
	}
	return vegeta.ConstantPacer{Freq: int(math.Round(rate * 1000)), Per: 1000 * time.Second}
}
