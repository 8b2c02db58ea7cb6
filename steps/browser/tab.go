package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// Tab is one scenario's window. Its methods are not safe for concurrent use.
type Tab struct {
	ctx     context.Context
	close   context.CancelFunc
	timeout time.Duration
	capture *capture
}

// Close closes the tab and disposes its browser context.
func (t *Tab) Close() { t.close() }

// within runs steps with the per-action timeout, naming what timed out.
func (t *Tab) within(what string, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		return actionErr(what, t.timeout, err)
	}
	return nil
}

func run[T any](t *Tab, what string, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		return v, actionErr(what, t.timeout, err)
	}
	return v, nil
}

func actionErr(what string, d time.Duration, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("browser: %s: nothing happened within %s", what, d)
	}
	return fmt.Errorf("browser: %s: %w", what, err)
}

// Navigate opens url and waits for the page to load.
func (t *Tab) Navigate(url string) error { return t.within("open "+url, chromedp.Navigate(url)) }

// WaitVisible waits until the element matched by the CSS selector is visible.
func (t *Tab) WaitVisible(sel string) error {
	return t.within("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Visible reports whether sel is on the page now (no waiting).
func (t *Tab) Visible(sel string) (bool, error) {
	return run(t, "look for "+sel, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
}

// Fill sets the input matched by sel to value and fires the input and change events a page's
// scripts listen to. (Typing key by key costs about 50 ms a field and tests nothing more: the
// form is still submitted by a real click.)
func (t *Tab) Fill(sel, value string) error {
	if err := t.WaitVisible(sel); err != nil {
		return err
	}
	s, _ := json.Marshal(sel)
	v, _ := json.Marshal(value)
	js := fmt.Sprintf(`(e => { e.focus(); e.value = %s; for (const k of ["input", "change"]) e.dispatchEvent(new Event(k, {bubbles: true})); return e.value === %s })(document.querySelector(%s))`, v, v, s)
	ok, err := run(t, "fill "+sel, chromedp.Evaluate[bool](js))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("browser: fill %s: the field did not take the value", sel)
	}
	return nil
}

// Click clicks sel and waits for the navigation it causes, if any, to finish.
func (t *Tab) Click(sel string) error {
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		return actionErr("click "+sel, t.timeout, err)
	}
	return nil
}

// Text returns the visible text of the first element matched by sel.
func (t *Tab) Text(sel string) (string, error) {
	return run(t, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Texts returns the text of every element matched by sel.
func (t *Tab) Texts(sel string) ([]string, error) {
	js := fmt.Sprintf("Array.from(document.querySelectorAll(%q), e => e.textContent.trim())", sel)
	return run(t, "read "+sel, chromedp.Evaluate[[]string](js))
}

// URL returns the tab's current address.
func (t *Tab) URL() (string, error) { return run(t, "read the address", chromedp.Location()) }

// Screenshot returns a PNG of the whole page.
func (t *Tab) Screenshot() ([]byte, error) {
	return run(t, "take a screenshot", chromedp.FullScreenshot(100))
}

// capture answers requests to one URL prefix from inside the browser (DevTools Fetch domain), so a
// redirect to a client's callback on a host that does not exist is recorded without a network call.
type capture struct {
	mu   sync.Mutex
	urls []string
	got  chan string
	stop context.CancelFunc
	done chan struct{}
}

// CaptureRedirects starts recording requests whose URL starts with prefix (a client's redirect URI
// without its query); each gets a small 200 page. Call it before the action that redirects.
func (t *Tab) CaptureRedirects(prefix string) error {
	if t.capture != nil {
		return errors.New("browser: already capturing redirects on this tab")
	}
	lctx, stop := context.WithCancel(t.ctx)
	events := chromedp.Events(lctx, fetch.RequestPaused) // subscribes now, before Enable
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: prefix + "*", RequestStage: fetch.RequestStageRequest}},
	}); err != nil {
		stop()
		return actionErr("intercept "+prefix, t.timeout, err)
	}
	c := &capture{got: make(chan string, 16), stop: stop, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev, err := range events {
			if err != nil {
				return
			}
			u := ev.Request.URL + ev.Request.URLFragment
			c.mu.Lock()
			c.urls = append(c.urls, u)
			c.mu.Unlock()
			select {
			case c.got <- u:
			default:
			}
			_, _ = chromedp.Call(t.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
				Body:            []byte(`<!doctype html><title>callback</title><p id="harness-callback">The client's callback was reached.</p>`),
			})
		}
	}()
	t.capture = c
	return nil
}

// CallbackSelector is on the page a captured redirect gets instead of the client's real callback.
const CallbackSelector = "#harness-callback"

// Captured lists every URL captured since CaptureRedirects.
func (t *Tab) Captured() []string {
	if t.capture == nil {
		return nil
	}
	t.capture.mu.Lock()
	defer t.capture.mu.Unlock()
	return slices.Clone(t.capture.urls)
}

// Redirected waits for the first captured redirect and returns its full URL (query and fragment).
func (t *Tab) Redirected() (string, error) {
	if t.capture == nil {
		return "", errors.New("browser: CaptureRedirects was not called")
	}
	select {
	case u := <-t.capture.got:
		return u, nil
	case <-time.After(t.timeout):
		return "", fmt.Errorf("browser: no redirect to the client within %s", t.timeout)
	}
}

// StopCapture stops recording redirects.
func (t *Tab) StopCapture() {
	if t.capture == nil {
		return
	}
	t.capture.stop()
	<-t.capture.done
	ctx, cancel := context.WithTimeout(t.ctx, 2*time.Second)
	defer cancel()
	_, _ = chromedp.Call(ctx, fetch.Disable, cdp.Empty{})
	t.capture = nil
}
