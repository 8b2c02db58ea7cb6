package htmlreport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/stats"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestThePageIsSelfContained(t *testing.T) {
	rec := stats.NewRecorder()
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 500 {
		rec.Add(&vegeta.Result{Code: 200, Timestamp: t0.Add(time.Duration(i) * 10 * time.Millisecond), Latency: time.Duration(1+i%50) * time.Millisecond})
	}
	var b bytes.Buffer
	err := Write(&b, Page{Title: "t <x>", Text: "summary & more", Series: rec.Series(), Distribution: rec.Distribution(), SLO: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if n := strings.Count(html, "<svg"); n != 3 {
		t.Errorf("%d charts, want 3", n)
	}
	for _, banned := range []string{"<script", "src=", "<link", "t <x>", "summary & more"} {
		if strings.Contains(html, banned) {
			t.Errorf("the page contains %q (scripts, remote resources or unescaped text)", banned)
		}
	}
	if !strings.Contains(html, `class="slo"`) || !strings.Contains(html, "t &lt;x&gt;") {
		t.Error("no SLO line or title")
	}
}

func TestEmptyPage(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, Page{Title: "empty"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No results") {
		t.Error("an empty run says nothing")
	}
}
