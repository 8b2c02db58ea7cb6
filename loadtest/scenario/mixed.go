package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ParseMix reads "api=50,client-credentials=15" into weights, naming a bad entry.
func ParseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(w))
		name = strings.TrimSpace(name)
		switch {
		case !ok || err != nil || n < 0 || n > 1000:
			return nil, fmt.Errorf("mix entry %q is not NAME=WEIGHT with a weight from 0 to 1000", part)
		case name == Mixed || !validName(name):
			return nil, fmt.Errorf("mix entry %q: %q is not a scenario (known: %s)", part, name, strings.Join(Names()[:len(Names())-1], ", "))
		}
		mix[name] = n
	}
	if total(mix) == 0 {
		return nil, fmt.Errorf("the mix %q has no positive weight", s)
	}
	return mix, nil
}

func validName(n string) bool {
	for _, k := range Names() {
		if k == n {
			return true
		}
	}
	return false
}

func total(mix map[string]int) int {
	t := 0
	for _, w := range mix {
		t += w
	}
	return t
}

// schedule interleaves the weighted names evenly (smooth weighted round robin), so that any stretch
// of the attack has the mix's proportions, not bursts of one path.
func schedule(mix map[string]int) []string {
	names := make([]string, 0, len(mix))
	for n, w := range mix {
		if w > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	sum := total(mix)
	current := make([]int, len(names))
	out := make([]string, 0, sum)
	for range sum {
		best := 0
		for i, n := range names {
			current[i] += mix[n]
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= sum
		out = append(out, names[best])
	}
	return out
}

// mixed builds every weighted path and interleaves their requests.
func (b *builder) mixed(ctx context.Context) (*Scenario, error) {
	if total(b.opts.Mix) <= 0 {
		return nil, fmt.Errorf("the mix has no positive weight")
	}
	subs := map[string]*Scenario{}
	var desc []string
	for _, name := range schedulesNames(b.opts.Mix) {
		if name == Mixed {
			return nil, fmt.Errorf("the mix cannot contain %q", Mixed)
		}
		s, err := New(ctx, b.env, name, b.opts)
		if err != nil {
			return nil, err
		}
		subs[name] = s
		desc = append(desc, fmt.Sprintf("%s %d%%", name, int(math.Round(100*float64(b.opts.Mix[name])/float64(total(b.opts.Mix))))))
	}
	order := schedule(b.opts.Mix)
	observers := map[string][]func(*vegeta.Result){}
	var crypto []Op
	for name, s := range subs {
		if s.Observe != nil {
			observers[s.url] = append(observers[s.url], s.Observe)
		}
		share := float64(b.opts.Mix[name]) / float64(len(order))
		for _, op := range s.Crypto {
			crypto = addOp(crypto, Op{Alg: op.Alg, Verify: op.Verify, Count: op.Count * share})
		}
	}
	var next atomicCounter
	return &Scenario{
		Description: "a mix: " + strings.Join(desc, ", "),
		Targeter: func(t *vegeta.Target) error {
			return subs[order[next.inc()%uint64(len(order))]].Targeter(t)
		},
		Observe: func(r *vegeta.Result) {
			for _, o := range observers[r.URL] {
				o(r)
			}
		},
		Prepare: func(ctx context.Context, n int) error {
			for name, s := range subs {
				if s.Prepare == nil {
					continue
				}
				// The share of n, rounded up, plus a margin for the rounding of the schedule.
				share := (n*b.opts.Mix[name]+len(order)-1)/len(order) + len(order)
				if err := s.Prepare(ctx, share); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			return nil
		},
		Crypto: crypto,
	}, nil
}

// schedulesNames are the mix's names with a positive weight, sorted.
func schedulesNames(mix map[string]int) []string {
	var out []string
	for n, w := range mix {
		if w > 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// addOp merges op into ops by algorithm and kind.
func addOp(ops []Op, op Op) []Op {
	for i := range ops {
		if ops[i].Alg == op.Alg && ops[i].Verify == op.Verify {
			ops[i].Count += op.Count
			return ops
		}
	}
	return append(ops, op)
}

// atomicCounter hands out 0, 1, 2... to concurrent callers.
type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) inc() uint64 { return c.n.Add(1) - 1 }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
