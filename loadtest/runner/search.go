package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	"github.com/oauth-harness/oauth-harness/loadtest/stats"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// SLO is the objective a sustainable rate holds.
type SLO struct {
	P99     time.Duration // the 99th percentile latency at most this
	Success float64       // the success ratio at least this (0-1)
}

// Search bounds the search for the highest sustainable rate. Zero fields take the defaults.
type Search struct {
	Start    float64       // first rate; 50
	Max      float64       // highest rate tried; 20000
	Step     time.Duration // each rate's attack; 5 s
	MaxSteps int           // attacks at most; 12
	Budget   time.Duration // wall time at most, pauses and preparation included; 2 min
	// Resolution ends the search once the failing rate is within this fraction above the passing
	// one; 0.1.
	Resolution float64
	// Pause lets the server drain between steps; 1 s.
	Pause time.Duration
	// MinSent is the share of the asked rate the generator must actually send for a step to count:
	// below it the generator, not the server, is the limit (workers all busy); 0.95.
	MinSent float64
}

func (s *Search) defaults() {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&s.Start, 50)
	def(&s.Max, 20000)
	def(&s.Resolution, 0.1)
	def(&s.MinSent, 0.95)
	if s.Step <= 0 {
		s.Step = 5 * time.Second
	}
	if s.MaxSteps <= 0 {
		s.MaxSteps = 12
	}
	if s.Budget <= 0 {
		s.Budget = 2 * time.Minute
	}
	if s.Pause <= 0 {
		s.Pause = time.Second
	}
}

// Validate refuses a search that is not bounded.
func (s Search) Validate() error {
	s.defaults()
	switch {
	case s.Start > s.Max:
		return fmt.Errorf("the search starts at %v/s, above its maximum %v/s", s.Start, s.Max)
	case s.Max > MaxRate:
		return fmt.Errorf("the search's maximum rate %v/s is over %d/s", s.Max, MaxRate)
	case s.Step > time.Minute:
		return fmt.Errorf("a search step of %v is over a minute", s.Step)
	case s.Budget > MaxDuration:
		return fmt.Errorf("the search budget %v is over %v", s.Budget, MaxDuration)
	case s.MaxSteps > 50:
		return fmt.Errorf("%d search steps are over 50", s.MaxSteps)
	case s.Resolution >= 1:
		return fmt.Errorf("the resolution %v must be below 1", s.Resolution)
	}
	return nil
}

// Step is one rate the search tried.
type Step struct {
	Rate    float64       `json:"rate_per_s"`
	Summary stats.Summary `json:"summary"`
	Pass    bool          `json:"pass"`
	Why     string        `json:"why"` // what passed or failed
}

// Result is where the search ended.
type Result struct {
	Best    float64 `json:"best_rate_per_s"` // the highest rate that held the SLO; 0 if none did
	BestAt  *Step   `json:"-"`
	Steps   []Step  `json:"steps"`
	Stopped string  `json:"stopped"` // why the search ended
}

// judge decides whether a step held the SLO and says why.
func judge(slo SLO, minSent, rate float64, s stats.Summary, stopErr error) (bool, string) {
	switch {
	case stopErr != nil:
		return false, stopErr.Error()
	case s.Requests == 0:
		return false, "no request completed"
	case s.Rate < minSent*rate:
		return false, fmt.Sprintf("the generator sent only %.0f/s of %.0f/s (all workers busy: the answers are too slow)", s.Rate, rate)
	case s.SuccessRatio < slo.Success:
		return false, fmt.Sprintf("success %.3f%% < %.3f%%", 100*s.SuccessRatio, 100*slo.Success)
	case s.Latency.P99 > slo.P99:
		return false, fmt.Sprintf("p99 %s > %s", stats.Dur(s.Latency.P99), stats.Dur(slo.P99))
	}
	return true, fmt.Sprintf("p99 %s ≤ %s, success %.3f%%", stats.Dur(s.Latency.P99), stats.Dur(slo.P99), 100*s.SuccessRatio)
}

// FindMax searches for the highest rate sc sustains within slo: it doubles the rate from Start until
// a step misses, then bisects between the last pass and the first miss until they are within
// Resolution, bounded by MaxSteps and Budget. Every step's results go to sink; each step is named
// "NAME@RATE/s". progress, when not nil, hears of each step as it ends.
func FindMax(ctx context.Context, sc *scenario.Scenario, slo SLO, search Search, client *http.Client, o Options,
	sink func(*vegeta.Result), progress func(Step)) (*Result, error) {
	if err := search.Validate(); err != nil {
		return nil, err
	}
	search.defaults()
	began := time.Now()
	res := &Result{}
	lo, hi := 0.0, math.Inf(1)
	rate := math.Round(search.Start)
	for {
		switch {
		case len(res.Steps) >= search.MaxSteps:
			res.Stopped = fmt.Sprintf("the step limit (%d) was reached", search.MaxSteps)
		case time.Since(began)+search.Step+search.Pause > search.Budget:
			res.Stopped = fmt.Sprintf("the time budget (%v) would be exceeded by another step", search.Budget)
		}
		if res.Stopped != "" {
			break
		}
		rec := stats.NewRecorder()
		err := Attack(ctx, sc, rate, search.Step, fmt.Sprintf("%s@%.0f/s", sc.Name, rate), client, o, func(r *vegeta.Result) {
			rec.Add(r)
			sink(r)
		})
		if err != nil && !errors.Is(err, ErrStopped) {
			return res, err
		}
		step := Step{Rate: rate, Summary: rec.Summary()}
		step.Pass, step.Why = judge(slo, search.MinSent, rate, step.Summary, err)
		res.Steps = append(res.Steps, step)
		if progress != nil {
			progress(step)
		}
		if step.Pass {
			lo = rate
			res.Best, res.BestAt = rate, &res.Steps[len(res.Steps)-1]
		} else {
			hi = rate
		}
		next, why := nextRate(lo, hi, search)
		if why != "" {
			res.Stopped = why
			break
		}
		rate = next
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(search.Pause):
		}
	}
	return res, nil
}

// nextRate picks the next rate to try, or says why the search is over.
func nextRate(lo, hi float64, s Search) (float64, string) {
	switch {
	case math.IsInf(hi, 1) && lo >= s.Max:
		return 0, fmt.Sprintf("the maximum rate %.0f/s held the SLO: raise the search's maximum to go further", s.Max)
	case math.IsInf(hi, 1):
		return math.Min(math.Round(lo*2), s.Max), ""
	case lo == 0 && hi <= 1:
		return 0, "even 1/s missed the SLO"
	case lo == 0:
		return math.Max(1, math.Round(hi/2)), ""
	case hi <= lo*(1+s.Resolution) || hi-lo <= 1:
		return 0, fmt.Sprintf("the SLO held at %.0f/s and was missed at %.0f/s: within %.0f%%", lo, hi, 100*s.Resolution)
	}
	return math.Round((lo + hi) / 2), ""
}
