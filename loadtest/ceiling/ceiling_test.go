package ceiling

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses: fields count from its last ')'.
	line := "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 0 0"
	d, err := parseStat(line)
	if err != nil || d != 3250*time.Millisecond {
		t.Errorf("parseStat = %v, %v; want (250+75) ticks = 3.25s", d, err)
	}
	for _, bad := range []string{"", "1234 (x) S 1", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x y 0"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProcessCPUOfThisProcess(t *testing.T) {
	busy := time.Now()
	for time.Since(busy) < 50*time.Millisecond {
	}
	d, err := ProcessCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Errorf("ProcessCPU = %v, %v", d, err)
	}
	if _, err := ProcessCPU(-1); err == nil {
		t.Error("no error for a missing process")
	}
}

func TestCeiling(t *testing.T) {
	ops := []scenario.Op{{Alg: "ES256", Count: 1}, {Alg: "ES256", Verify: true, Count: 0.5}, {Alg: "HS256", Count: 1}}
	c, err := New(ops, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Costs) != 2 || c.Costs[0].Sign <= 0 || c.Costs[0].Verify <= 0 || c.Crypto <= c.Costs[0].Sign || c.Rate <= 0 {
		t.Fatalf("ceiling %+v", c)
	}
	c.Measured(2*time.Second, 1000, c.Rate/2)
	if c.ServerCPUPerRequest != 2*time.Millisecond || c.RateRatio() < 0.49 || c.RateRatio() > 0.51 || c.CPURatio() <= 0 {
		t.Errorf("measured %+v, ratios %v %v", c, c.RateRatio(), c.CPURatio())
	}
	if s := c.String(); !strings.Contains(s, "ES256 sign") || !strings.Contains(s, "per successful request") {
		t.Errorf("text:\n%s", s)
	}
	if _, err := New([]scenario.Op{{Alg: "XX999", Count: 1}}, time.Millisecond); err == nil {
		t.Error("an unknown algorithm was calibrated")
	}
	none, _ := New(nil, time.Millisecond)
	if !strings.Contains(none.String(), "no crypto ceiling") || !strings.Contains(none.String(), "not measured") {
		t.Errorf("no ops:\n%s", none)
	}
}
