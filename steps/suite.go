package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Config is one run of the catalogue against one target.
type Config struct {
	Target *target.Profile
	// Features is where the .feature files are (features.FS for the built-in catalogue).
	Features fs.FS
	// Tags filters scenarios, in godog's syntax ("@client-credentials && ~@needs-admin").
	Tags        string
	Concurrency int
	// Format is godog's: "pretty", "progress", or several as "pretty,cucumber:out.json,junit:out.xml".
	Format   string
	Output   io.Writer
	TestingT *testing.T // set under go test: each scenario becomes a subtest
	// Select, when set, picks the scenarios to run by name and tags; the others are reported as
	// skipped. (Tags select too; this is for choices tags cannot express, such as one scenario.)
	Select func(name string, tags []string) bool
	// Context, when set, is every scenario's parent: cancelling it (Ctrl-C) stops the run's requests.
	Context context.Context
	// Partner is the app under certification, for the client features (features.ClientFS).
	Partner *target.Partner
}

// Run executes the catalogue. It returns an error for a run that could not start (a malformed
// feature file, a bad tag expression) and otherwise whether every scenario passed.
func Run(cfg Config) (passed bool, err error) {
	if cfg.Target == nil {
		return false, errors.New("steps: a target is required")
	}
	if err := cfg.Target.Validate(); err != nil {
		return false, err
	}
	if strings.HasSuffix(strings.TrimSpace(cfg.Tags), "&&") || strings.HasSuffix(strings.TrimSpace(cfg.Tags), ",") {
		return false, fmt.Errorf("steps: the tag expression %q is incomplete", cfg.Tags) // godog panics on it
	}
	tags, err := godogTags(cfg.Tags)
	if err != nil {
		return false, err
	}
	if cfg.Format == "" {
		cfg.Format = "progress"
	}
	run := &runState{browsers: &lazyBrowser{}}
	defer run.browsers.close()
	suite := godog.TestSuite{
		Name:                "oauth-harness conformance",
		ScenarioInitializer: func(sc *godog.ScenarioContext) { initialize(sc, cfg, run) },
		Options: &godog.Options{
			FS: cfg.Features, Paths: []string{"."}, Tags: tags, Concurrency: max(1, cfg.Concurrency),
			Format: cfg.Format, Output: cfg.Output, TestingT: cfg.TestingT, Strict: true, NoColors: true,
			DefaultContext: cfg.Context,
		},
	}
	// Parse first: godog reports a malformed file only on stderr, with status 2.
	if _, err := suite.RetrieveFeatures(); err != nil {
		return false, fmt.Errorf("steps: the features cannot be read: %w", err)
	}
	status := suite.Run()
	if run.selected.Load() == 0 {
		return false, fmt.Errorf("steps: no scenario is selected (tags %q): a run that checks nothing is not a pass", cfg.Tags)
	}
	switch status {
	case 0:
		return true, nil
	case 1:
		return false, nil
	default:
		return false, fmt.Errorf("steps: godog could not run the suite (status %d)", status)
	}
}

// runState is what the scenarios of one run share.
type runState struct {
	browsers *lazyBrowser
	// isolation lets a scenario tagged @isolated run alone: it changes state of the target that other
	// scenarios depend on (a user's consents, a client's token faults). Every other scenario holds
	// it for reading. One lock per scenario, taken in Before and released in After, so no cycles.
	isolation sync.RWMutex
	selected  atomic.Int64 // scenarios the tags and the selection let in (run or skipped for a reason)
}

// initialize wires one scenario: its state, the capability check, its steps and its clean-up.
func initialize(sc *godog.ScenarioContext, cfg Config, run *runState) {
	t, sel, partner := cfg.Target, cfg.Select, cfg.Partner
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w := newWorld(t, run.browsers)
		w.began = time.Now()
		if partner != nil {
			w.partner = partner
			w.extra[partner.Name] = target.Client{Name: partner.Name, ClientID: partner.ClientID, ClientSecret: partner.ClientSecret,
				RedirectURI: partner.RedirectURI}
		}
		var tags []string
		for _, tag := range s.Tags {
			tags = append(tags, tag.Name)
			if c, ok := strings.CutPrefix(tag.Name, "@needs-"); ok && !has(t, partner, c) && w.skipReason == "" {
				w.skipReason = fmt.Sprintf("the target %q lacks the capability %q", t.Name, c)
				if partner != nil && (c == "sync" || c == "id-token") {
					w.skipReason = fmt.Sprintf("the partner profile declares no %s", map[string]string{"sync": "background_sync", "id-token": "uses_id_token"}[c])
				}
			}
		}
		if sel != nil && !sel(s.Name, tags) {
			w.skipReason = "not selected for this run"
		} else {
			run.selected.Add(1)
		}
		if w.skipReason == "" {
			if slices.Contains(tags, "@isolated") {
				run.isolation.Lock()
				w.release = run.isolation.Unlock
			} else {
				run.isolation.RLock()
				w.release = run.isolation.RUnlock
			}
		}
		return context.WithValue(ctx, worldKey{}, w), nil
	})
	// Tokens a step decoded are attached to it, so the report shows the claims every check saw.
	sc.StepContext().After(func(ctx context.Context, _ *godog.Step, status godog.StepResultStatus, _ error) (context.Context, error) {
		if w, ok := ctx.Value(worldKey{}).(*world); ok {
			ctx = w.attachChecked(ctx)
			ctx = w.attachExchanges(ctx, status == godog.StepFailed)
		}
		// The step's own error is already the step's: a hook's error would be joined to it ("X, X").
		return ctx, nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		w, ok := ctx.Value(worldKey{}).(*world)
		if !ok {
			return ctx, nil
		}
		if err != nil && !errors.Is(err, godog.ErrSkip) {
			ctx = w.screenshot(ctx, "failed-step.png") // before the tab closes; lands on the failed step
		}
		var errs []error
		for i := len(w.cleanups) - 1; i >= 0; i-- {
			errs = append(errs, w.cleanups[i](context.WithoutCancel(ctx)))
		}
		if w.tab != nil {
			w.browsers.release(w.tab)
		}
		if w.release != nil {
			w.release()
		}
		return ctx, errors.Join(errs...)
	})
	discoverySteps(sc)
	tokenSteps(sc)
	apiSteps(sc)
	adminSteps(sc)
	browserSteps(sc)
	codeSteps(sc)
	refreshSteps(sc)
	endpointSteps(sc)
	registrationSteps(sc)
	policySteps(sc)
	clientSteps(sc)
}

// has says whether the run can do what a @needs- tag asks: the target's capabilities, or for the
// client features what the partner's app declares.
func has(t *target.Profile, partner *target.Partner, capability string) bool {
	switch capability {
	case "sync":
		return partner != nil && partner.Sync != nil
	case "id-token":
		return partner != nil && partner.UsesIDToken
	case target.CapResourceServer:
		_, _, ok := t.ProtectedResource()
		return ok
	}
	return t.Has(capability)
}

// step registers a step definition behind the scenario's skip check. The skip happens in the first
// step itself, with the reason attached so it reaches the reports: godog v0.15.1 records an ErrSkip
// from a before-step hook as a failed step, and its formatters drop the text of a skip error.
// Every step function takes the context first.
func step(sc *godog.ScenarioContext, expr string, fn any) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumIn() == 0 || t.In(0) != ctxType {
		panic(fmt.Sprintf("steps: the function for %q must take a context.Context first", expr)) // a programming error, caught by every test
	}
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	guarded := reflect.MakeFunc(reflect.FuncOf(in, []reflect.Type{ctxType, errType}, false), func(args []reflect.Value) []reflect.Value {
		ctx := args[0].Interface().(context.Context)
		if w, ok := ctx.Value(worldKey{}).(*world); ok && w.skipReason != "" {
			ctx = godog.Attach(ctx, godog.Attachment{Body: []byte("skipped: " + w.skipReason), FileName: "skip-reason.txt", MediaType: "text/plain"})
			return []reflect.Value{reflect.ValueOf(&ctx).Elem(), reflect.ValueOf(fmt.Errorf("%w: %s", godog.ErrSkip, w.skipReason))}
		}
		var err error
		for _, r := range v.Call(args) {
			switch x := r.Interface().(type) {
			case context.Context:
				ctx = x
			case error:
				err = x
			}
		}
		if missing := (*target.MissingAliasError)(nil); errors.As(err, &missing) {
			err = notApplicable("%v", missing)
		}
		if errors.Is(err, godog.ErrSkip) { // a check that does not apply to this target, with the reason
			ctx = godog.Attach(ctx, godog.Attachment{Body: []byte(err.Error()), FileName: "skip-reason.txt", MediaType: "text/plain"})
		}
		errV := reflect.Zero(errType)
		if err != nil {
			errV = reflect.ValueOf(&err).Elem()
		}
		return []reflect.Value{reflect.ValueOf(&ctx).Elem(), errV}
	})
	sc.Step(expr, guarded.Interface())
}

// notApplicable skips the rest of a scenario whose check the target does not have to pass: an
// optional feature it does not advertise, or a dialect it does not declare.
func notApplicable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", godog.ErrSkip, fmt.Sprintf(format, args...))
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)
