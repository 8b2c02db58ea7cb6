package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/loadtest"
	"github.com/oauth-harness/oauth-harness/loadtest/ceiling"
	"github.com/oauth-harness/oauth-harness/loadtest/netguard"
	"github.com/oauth-harness/oauth-harness/loadtest/runner"
	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	"github.com/oauth-harness/oauth-harness/loadtest/serverproc"
	"github.com/oauth-harness/oauth-harness/loadtest/stats"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
)

// errObjectivesMissed makes the process exit non-zero when --max-p99 or --min-success is missed.
var errObjectivesMissed = errors.New("load: objectives missed")

// setupAllowance bounds what a run does around its attack: starting the server, logging in,
// minting tokens and codes, calibrating, writing the files.
const setupAllowance = 3 * time.Minute

// codeAttackLimit keeps an attack that redeems pre-minted codes inside their lifetime, with margin.
const codeAttackLimit = 45 * time.Second

const loadUsage = `Usage:
  oauth-harness load --scenario NAME (--rate R --duration D | --find-max [--slo-p99 D --slo-success F])
                     [--target FILE] [--out DIR] [--max-p99 D] [--min-success F] [--workers N] [flags]
  oauth-harness load report [--out DIR] [--max-p99 D] [--min-success F] FILES...

Scenarios: ` + "client-credentials, refresh, authorization-code, api, introspect, userinfo, jwks, mixed" + `
Without --target the reference server runs in a child process on a free loopback port, so that its
CPU time per request can be read. "load report" merges result files of several generator hosts.

Flags:
`

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "report" {
		return runLoadReport(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadUsage); fs.PrintDefaults() }
	name := fs.String("scenario", "", "the path to load: "+strings.Join(scenario.Names(), ", "))
	rate := fs.Float64("rate", 0, "requests per second (fixed-rate mode)")
	duration := fs.Duration("duration", 0, "how long the fixed-rate attack lasts (at most "+runner.MaxDuration.String()+")")
	findMax := fs.Bool("find-max", false, "search for the highest rate that holds --slo-p99 and --slo-success")
	sloP99 := fs.Duration("slo-p99", 50*time.Millisecond, "find-max: the p99 latency a sustainable rate keeps")
	sloSuccess := fs.Float64("slo-success", 1, "find-max: the success ratio (0-1] a sustainable rate keeps")
	startRate := fs.Float64("start-rate", 50, "find-max: the first rate tried")
	maxRate := fs.Float64("max-rate", 20000, "find-max: the highest rate tried")
	step := fs.Duration("step", 5*time.Second, "find-max: how long each rate is held")
	maxSteps := fs.Int("max-steps", 12, "find-max: the most rates tried")
	budget := fs.Duration("budget", 2*time.Minute, "find-max: the most time the search takes")
	targetFile := fs.String("target", "", "target profile YAML, or "+containerReference+" for the reference server's image (default: the embedded reference server in a child process)")
	out := fs.String("out", "", "directory of the results (default reports/load/SCENARIO)")
	maxP99 := fs.Duration("max-p99", 0, "exit non-zero if the p99 latency is over this (find-max: at the rate found)")
	minSuccess := fs.Float64("min-success", 0, "exit non-zero if the success ratio (0-1] is under this")
	workers := fs.Uint64("workers", runner.DefaultWorkers, "the most requests in flight at once")
	timeout := fs.Duration("timeout", 10*time.Second, "each request's timeout")
	clients := fs.String("clients", "", `client-credentials, api, introspect: only these clients (aliases or ids, comma-separated), e.g. "Acme Sync"`)
	mix := fs.String("mix", "", `mixed: the weights, e.g. "api=50,client-credentials=15,introspect=10" (default: a built-in mix)`)
	calibrate := fs.Duration("calibrate", 300*time.Millisecond, "time spent measuring each signature operation's cost (0: no crypto ceiling)")
	signingAlg := fs.String("signing-alg", "", "embedded server only: its Contacts API signs access tokens with this algorithm ("+
		strings.Join(tenant.SigningAlgs, ", ")+"; default: as the fixtures say, RS256), to compare algorithms")
	allowRemote := fs.Bool("allow-non-loopback", false, "allow a target outside 127.0.0.0/8 and ::1 (never load a server that is not yours)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: load takes no arguments, got %q (did you mean load report?)", errUsage, fs.Args())
	}
	cfg := loadConfig{name: *name, rate: *rate, duration: *duration, findMax: *findMax,
		slo:        runner.SLO{P99: *sloP99, Success: *sloSuccess},
		search:     runner.Search{Start: *startRate, Max: *maxRate, Step: *step, MaxSteps: *maxSteps, Budget: *budget},
		targetFile: *targetFile, out: *out, gates: loadtest.Gates{MaxP99: *maxP99, MinSuccess: *minSuccess},
		opts:      runner.Options{Workers: *workers, Timeout: *timeout, AllowNonLoopback: *allowRemote},
		calibrate: *calibrate, signingAlg: *signingAlg}
	for c := range strings.SplitSeq(*clients, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.scOpts.Clients = append(cfg.scOpts.Clients, c)
		}
	}
	if err := cfg.validate(*mix); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.bound()+setupAllowance)
	defer cancel()
	return cfg.run(ctx, stdout, stderr)
}

type loadConfig struct {
	name       string
	rate       float64
	duration   time.Duration
	findMax    bool
	slo        runner.SLO
	search     runner.Search
	targetFile string
	out        string
	gates      loadtest.Gates
	opts       runner.Options
	scOpts     scenario.Options
	calibrate  time.Duration
	signingAlg string // of the embedded server's Contacts API; "" keeps the fixtures' choice
}

// validate checks the flags together, so every run is bounded and means one thing.
func (c *loadConfig) validate(mix string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
	}
	switch {
	case c.name == "":
		return bad("--scenario is required (%s)", strings.Join(scenario.Names(), ", "))
	case !contains(scenario.Names(), c.name):
		return bad("unknown scenario %q (known: %s)", c.name, strings.Join(scenario.Names(), ", "))
	case c.findMax && (c.rate != 0 || c.duration != 0):
		return bad("--find-max chooses the rates itself: leave out --rate and --duration")
	case c.findMax && (c.slo.P99 <= 0 || c.slo.Success <= 0 || c.slo.Success > 1):
		return bad("--slo-p99 must be positive and --slo-success in (0, 1]")
	case !c.findMax && (c.rate == 0 || c.duration == 0):
		return bad("give --rate and --duration (every run is bounded), or --find-max")
	case c.gates.MaxP99 < 0 || c.gates.MinSuccess < 0 || c.gates.MinSuccess > 1:
		return bad("--max-p99 must not be negative and --min-success must be in [0, 1]")
	case c.opts.Workers < 1 || c.opts.Workers > 10_000:
		return bad("--workers must be from 1 to 10000")
	case c.opts.Timeout <= 0 || c.opts.Timeout > 2*time.Minute:
		return bad("--timeout must be positive and at most 2m")
	case c.calibrate < 0 || c.calibrate > 10*time.Second:
		return bad("--calibrate must be from 0 to 10s")
	case c.signingAlg != "" && c.targetFile != "":
		return bad("--signing-alg configures the embedded server: a --target signs as it is configured")
	case c.signingAlg != "" && !slices.Contains(tenant.SigningAlgs, c.signingAlg):
		return bad("--signing-alg %q is not one of %s", c.signingAlg, strings.Join(tenant.SigningAlgs, ", "))
	}
	if c.findMax {
		if err := c.search.Validate(); err != nil {
			return bad("%v", err)
		}
	} else if err := runner.Validate(c.rate, c.duration); err != nil {
		return bad("%v", err)
	}
	if mix != "" {
		if c.name != scenario.Mixed {
			return bad("--mix is for --scenario mixed")
		}
		m, err := scenario.ParseMix(mix)
		if err != nil {
			return bad("--mix: %v", err)
		}
		c.scOpts.Mix = m
	}
	// Codes are minted before each attack and live 60 s at the reference server: an attack that
	// redeems them must end before the first ones expire.
	codes := c.name == scenario.AuthorizationCode ||
		(c.name == scenario.Mixed && (c.scOpts.Mix == nil || c.scOpts.Mix[scenario.AuthorizationCode] > 0))
	if attack := max(c.duration, c.search.Step); codes && attack > codeAttackLimit {
		return bad("an attack that redeems authorization codes lasts at most %v (codes minted beforehand live 60 s); use a shorter --duration or --step", codeAttackLimit)
	}
	if c.out == "" {
		c.out = filepath.Join("reports", "load", c.name)
	}
	// The refresh pool must outnumber the requests in flight, or it runs dry while they are out.
	c.scOpts.RefreshPool = int(min(c.opts.Workers, 2048)) + 32
	return nil
}

// bound is the longest the attacks may take.
func (c *loadConfig) bound() time.Duration {
	if c.findMax {
		return c.search.Budget + c.search.Step
	}
	return c.duration + c.opts.Timeout
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// loadTarget is the server under load: a profile, and the child process when it is the embedded server.
type loadTarget struct {
	profile *target.Profile
	proc    *serverproc.Proc
	stop    func() // removes a container target
}

func (c *loadConfig) startTarget(ctx context.Context, stderr io.Writer) (*loadTarget, error) {
	if c.targetFile != "" {
		// A profile file (which may start its own container), or container:reference.
		p, stop, err := openTarget(ctx, c.targetFile, stderr)
		if err != nil {
			stop()
			return nil, err
		}
		return &loadTarget{profile: p, stop: stop}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("load: cannot find this program to run the server: %w", err)
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}
	tenantYAML := fixtures.TenantYAML()
	if c.signingAlg != "" {
		secret := ""
		if c.signingAlg == tenant.HS256 {
			secret = rand.Text() + rand.Text() // 52 characters: over the 32 bytes HS256 needs
		}
		if tenantYAML, err = fixtures.TenantYAMLSigningWith(c.signingAlg, secret); err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "oauth-harness-load-")
		if err != nil {
			return nil, err
		}
		// The child reads the file at start-up; it goes when the run ends (it holds an HS256 key).
		defer os.RemoveAll(dir)
		file := filepath.Join(dir, "tenant.yaml")
		if err := os.WriteFile(file, tenantYAML, 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--fixtures", file)
	}
	tenantCfg, err := tenant.Parse(tenantYAML)
	if err != nil {
		return nil, err
	}
	proc, err := serverproc.Start(ctx, exe, args, stderr)
	if err != nil {
		return nil, err
	}
	p := reference.Profile(proc.Issuer, proc.APIBaseURL, tenantCfg, creds, target.KnownCapabilities)
	p.Name = "embedded reference server (child process)"
	p.AdminToken = proc.AdminToken
	return &loadTarget{profile: p, proc: proc}, nil
}

func (c *loadConfig) run(ctx context.Context, stdout, stderr io.Writer) error {
	tgt, err := c.startTarget(ctx, stderr)
	if err != nil {
		return err
	}
	if tgt.proc != nil {
		defer tgt.proc.Close()
	}
	if tgt.stop != nil {
		defer tgt.stop()
	}
	p := tgt.profile
	if !c.opts.AllowNonLoopback {
		// Checked before the first request: not even discovery goes to a host that is not this one.
		if err := netguard.CheckURLs(ctx, p.Issuer, p.APIBaseURL); err != nil {
			return fmt.Errorf("load: the target is not on loopback (pass --allow-non-loopback for a server of yours elsewhere): %w", err)
		}
	}
	setup := &http.Client{Timeout: 15 * time.Second, CheckRedirect: scenario.NoRedirects,
		Transport: &http.Transport{DialContext: netguard.Dialer(c.opts.AllowNonLoopback).DialContext}}
	env, err := scenario.Discover(ctx, p, setup)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if !c.opts.AllowNonLoopback {
		if err := netguard.CheckURLs(ctx, env.Endpoints.All()...); err != nil {
			return fmt.Errorf("load: the discovery document names endpoints off loopback: %w", err)
		}
	}
	fmt.Fprintf(stdout, "load: %s against %s (%s): preparing\n", c.name, p.Name, p.Issuer)
	sc, err := scenario.New(ctx, env, c.name, c.scOpts)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	var ceil *ceiling.Ceiling
	if c.calibrate > 0 {
		// Before the attack, with the server idle: the calibration has the machine to itself.
		if ceil, err = ceiling.New(sc.Crypto, c.calibrate); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	rep := &loadtest.Report{Title: "oauth-harness load: " + c.name, Target: fmt.Sprintf("%s (%s)", p.Name, p.Issuer),
		Scenario: c.name, Description: sc.Description, Gates: c.gates}
	outs, err := loadtest.Create(c.out, rep.Title, true)
	if err != nil {
		return err
	}
	cpu := &cpuMeter{proc: tgt.proc}
	client := runner.NewClient(c.opts)
	defer client.CloseIdleConnections()
	live := startProgress(stdout, outs.Recorder())
	opts := c.opts
	opts.BeforeAttack = cpu.start
	var attackErr error
	if c.findMax {
		rep.Mode = fmt.Sprintf("find-max: p99 ≤ %s and success ≥ %.3f%%, from %.0f/s up to %.0f/s, %v per step, at most %d steps and %v; at most %d requests in flight",
			stats.Dur(c.slo.P99), 100*c.slo.Success, c.search.Start, c.search.Max, c.search.Step, c.search.MaxSteps, c.search.Budget, c.opts.Workers)
		fmt.Fprintf(stdout, "load: %s\n", rep.Mode)
		rep.SearchP99 = c.slo.P99
		cpuAt := map[float64]time.Duration{}
		rep.Search, attackErr = runner.FindMax(ctx, sc, c.slo, c.search, client, opts, outs.Add, func(s runner.Step) {
			cpuAt[s.Rate] = cpu.stop()
			live.println(fmt.Sprintf("step %.0f/s: sent %.0f/s, p99 %s, success %.3f%%: %v (%s)", s.Rate, s.Summary.Rate,
				stats.Dur(s.Summary.Latency.P99), 100*s.Summary.SuccessRatio, map[bool]string{true: "held", false: "missed"}[s.Pass], s.Why))
		})
		if b := rep.Search; ceil != nil && b != nil && b.BestAt != nil {
			ceil.Measured(cpuAt[b.Best], b.BestAt.Summary.Successes, b.BestAt.Summary.Throughput)
		}
	} else {
		rep.Mode = fmt.Sprintf("%.0f/s for %v; at most %d requests in flight", c.rate, c.duration, c.opts.Workers)
		fmt.Fprintf(stdout, "load: %s\n", rep.Mode)
		if sc.Prepare != nil {
			if err := sc.Prepare(ctx, int(math.Ceil(c.rate*c.duration.Seconds()))); err != nil {
				return fmt.Errorf("load: prepare: %w", err)
			}
		}
		attackErr = runner.Attack(ctx, sc, c.rate, c.duration, c.name, client, opts, outs.Add)
		used := cpu.stop()
		if ceil != nil {
			s := outs.Recorder().Summary()
			ceil.Measured(used, s.Successes, s.Throughput)
		}
	}
	live.stop()
	if attackErr != nil {
		rep.Stopped = attackErr.Error()
	}
	if ceil != nil && tgt.proc != nil && cpu.err != nil {
		fmt.Fprintf(stderr, "load: the server's CPU time: %v\n", cpu.err)
	}
	rep.Ceiling = ceil
	files, err := outs.Close(rep)
	fmt.Fprint(stdout, rep.Text())
	fmt.Fprintf(stdout, "files: %s\n", strings.Join(files, ", "))
	switch {
	case err != nil:
		return err
	case attackErr != nil && !errors.Is(attackErr, runner.ErrStopped):
		return attackErr
	case attackErr != nil:
		return fmt.Errorf("load: %w", attackErr)
	case len(rep.Missed) > 0:
		return fmt.Errorf("%w: %s", errObjectivesMissed, strings.Join(rep.Missed, "; "))
	}
	return nil
}

// cpuMeter reads the child server's CPU time around each attack; without a child it reads nothing.
type cpuMeter struct {
	proc  *serverproc.Proc
	begin time.Duration
	err   error
}

func (m *cpuMeter) start() {
	if m.proc != nil {
		m.begin, m.err = ceiling.ProcessCPU(m.proc.PID())
	}
}

func (m *cpuMeter) stop() time.Duration {
	if m.proc == nil || m.err != nil {
		return 0
	}
	end, err := ceiling.ProcessCPU(m.proc.PID())
	if err != nil {
		m.err = err
		return 0
	}
	return end - m.begin
}

// progress prints a live line on a terminal, once a second; elsewhere (CI logs) it stays quiet.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	done  chan struct{}
	ended sync.WaitGroup
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func startProgress(w io.Writer, rec *stats.Recorder) *progress {
	p := &progress{w: w, tty: isTerminal(w), done: make(chan struct{})}
	if !p.tty {
		return p
	}
	began := time.Now()
	p.ended.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last uint64
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
			}
			n, ok := rec.Counts()
			ratio := 0.0
			if n > 0 {
				ratio = 100 * float64(ok) / float64(n)
			}
			p.mu.Lock()
			fmt.Fprintf(p.w, "\r\033[K[%4.0fs] %d requests, %d/s now, %.2f%% ok, p99 %s", time.Since(began).Seconds(), n, n-last, ratio, stats.Dur(rec.Latency(99)))
			p.mu.Unlock()
			last = n
		}
	})
	return p
}

// println prints a line above the live one.
func (p *progress) println(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, s)
}

func (p *progress) stop() {
	close(p.done)
	p.ended.Wait()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// runLoadReport merges result files (vegeta's distributed pattern: one file per generator host).
func runLoadReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadUsage); fs.PrintDefaults() }
	out := fs.String("out", filepath.Join("reports", "load", "merged"), "directory of the merged summary, histogram and pages")
	title := fs.String("title", "oauth-harness load: merged results", "the report's title")
	maxP99 := fs.Duration("max-p99", 0, "exit non-zero if the merged p99 latency is over this")
	minSuccess := fs.Float64("min-success", 0, "exit non-zero if the merged success ratio (0-1] is under this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: load report needs result files (flags first: load report --out DIR a.bin b.bin)", errUsage)
	}
	if *maxP99 < 0 || *minSuccess < 0 || *minSuccess > 1 {
		return fmt.Errorf("%w: --max-p99 must not be negative and --min-success must be in [0, 1]", errUsage)
	}
	outs, err := loadtest.Create(*out, *title, false)
	if err != nil {
		return err
	}
	if err := stats.ReadFiles(fs.Args(), outs.Add); err != nil {
		return fmt.Errorf("load report: %w", err)
	}
	rep := &loadtest.Report{Title: *title, Mode: fmt.Sprintf("merged from %d files: %s", fs.NArg(), strings.Join(fs.Args(), ", ")),
		Gates: loadtest.Gates{MaxP99: *maxP99, MinSuccess: *minSuccess}}
	files, err := outs.Close(rep)
	fmt.Fprint(stdout, rep.Text())
	fmt.Fprintf(stdout, "files: %s\n", strings.Join(files, ", "))
	if err != nil {
		return err
	}
	if len(rep.Missed) > 0 {
		return fmt.Errorf("%w: %s", errObjectivesMissed, strings.Join(rep.Missed, "; "))
	}
	return nil
}
