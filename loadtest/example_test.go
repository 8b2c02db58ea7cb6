package loadtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest"
	"github.com/oauth-harness/oauth-harness/loadtest/runner"
	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	"github.com/oauth-harness/oauth-harness/steps/target"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A scenario is a vegeta targeter: with the runner and the outputs of this package, or with vegeta
// alone (then hand each result to Observe, which puts rotated refresh tokens back in their pool).
func Example() {
	ctx := context.Background()
	p, err := target.Load("target.yaml") // or reference.Profile(...) for an embedded server
	if err != nil {
		fmt.Println(err)
		return
	}
	env, err := scenario.Discover(ctx, p, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	sc, err := scenario.New(ctx, env, scenario.Refresh, scenario.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// With the runner: a bounded attack, results into results.bin, the summaries and the pages.
	outs, _ := loadtest.Create("reports/load/refresh", "refresh", true)
	err = runner.Attack(ctx, sc, 100, 10*time.Second, sc.Name, runner.NewClient(runner.Options{}), runner.Options{}, outs.Add)
	rep := &loadtest.Report{Title: "refresh", Gates: loadtest.Gates{MaxP99: 50 * time.Millisecond}}
	files, _ := outs.Close(rep)
	fmt.Println(files, rep.Missed, err)

	// With vegeta alone.
	atk := vegeta.NewAttacker()
	for r := range atk.Attack(sc.Targeter, vegeta.ConstantPacer{Freq: 100, Per: time.Second}, 5*time.Second, sc.Name) {
		if sc.Observe != nil {
			sc.Observe(r)
		}
	}
}
