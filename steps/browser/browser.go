// Package browser drives one headless Chromium for the conformance suite: a fresh incognito context
// per scenario, a timeout on every action, and capture of the redirect back to the client so the
// browser never leaves loopback. Built on chromedp v0.23's generic API; see steps/NOTES.md.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultActionTimeout bounds each browser action (a navigation, a click, a wait).
const DefaultActionTimeout = 10 * time.Second

// ErrNoBrowser says Chromium is not installed where we look.
var ErrNoBrowser = errors.New("browser: Chromium not found (install it: apt-get install -y chromium, or set CHROME_PATH)")

// ExecPath finds Chromium: $CHROME_PATH, then Debian's binary (the /usr/bin/chromium wrapper script
// adds extension flags we do not want), then chromium or google-chrome on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("browser: CHROME_PATH=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// options are the flags for a headless browser run as root on a machine whose network is loopback:
// every other host fails at once, without a DNS query.
func options(path string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"),
		// A Flag replaces chromedp's default list, so it is repeated here.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter"),
		chromedp.WindowSize(1280, 900),
	)
}

// Browser is one Chromium process shared by every scenario of a run.
type Browser struct {
	ctx           context.Context // owns the browser; never given a deadline (see NOTES.md: it would hang tabs)
	cancel        func()
	ActionTimeout time.Duration
}

// Start launches Chromium. It fails with ErrNoBrowser when there is none, and within startTimeout
// when it does not come up.
func Start(parent context.Context) (*Browser, error) {
	path, err := ExecPath()
	if err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, options(path)...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }() // an empty Do starts the browser and its first tab
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = fmt.Errorf("did not start within %s", startTimeout)
	}
	if err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, fmt.Errorf("browser: start %s: %w", path, err)
	}
	return &Browser{ctx: bctx, cancel: func() { cancelBrowser(); cancelAlloc() }, ActionTimeout: DefaultActionTimeout}, nil
}

const startTimeout = 30 * time.Second

// Close stops Chromium and removes its temporary profile.
func (b *Browser) Close() error {
	err := chromedp.Cancel(b.ctx)
	b.cancel()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// NewTab opens a tab in a fresh incognito browser context: its own cookies and storage, so scenarios
// do not see each other's sessions. Close it when the scenario ends.
func (b *Browser) NewTab() (*Tab, error) {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	// The first call on a tab must have no deadline: a cancelled first context would hang the tab.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("browser: new tab: %w", err)
	}
	return &Tab{ctx: ctx, close: cancel, timeout: b.ActionTimeout}, nil
}
