package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed report.html.tmpl
var htmlSource string

// The template escapes everything: error messages and evidence carry bodies written by the
// server under test. The only value marked safe is an image data: URI built here from decoded
// bytes.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// maxText caps one text attachment in the page; the full text stays in cucumber.json.
const maxText = 256 << 10

// WriteHTML renders the results as one self-contained page: inline CSS, images as data: URIs, no
// script, and a Content-Security-Policy that forbids fetching anything.
func WriteHTML(w io.Writer, r *Results) error {
	var buf bytes.Buffer // render fully first: a template error must not leave half a page
	if err := htmlTemplate.Execute(&buf, newView(r)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

type view struct {
	Meta                  Meta
	Date                  string
	OK                    bool
	Summary               string
	Counts                Counts
	Elapsed, ScenarioTime string
	Errors, Warnings      []string
	Attention             []*scenarioView // what needs a look, linked from the top
	Features              []featureView
}

type featureView struct {
	Anchor, Name, Description, Counts string
	Tags                              []tagView
	Scenarios                         []*scenarioView
}

type scenarioView struct {
	Anchor, Feature, Title, Outcome, Class, Duration string
	Open                                             bool
	Tags                                             []tagView
	ExpectedReason                                   string
	SkipReason                                       string
	Steps                                            []stepView
}

type tagView struct{ Name, URL, Title string }

type stepView struct {
	Keyword, Name, Status, Icon, Duration, Error string
	Images                                       []imageView
	Tokens                                       []tokenView
	Texts                                        []textView
}

type imageView struct {
	Name string
	Src  template.URL
}

type tokenView struct {
	Name, Kind     string
	Header, Claims []Claim
	Repeat         bool // the scenario showed this very token before
}

type textView struct{ Name, Info, Body string }

func newView(r *Results) view {
	c := r.Counts()
	started := r.Meta.Started
	if started.IsZero() {
		started = time.Now()
	}
	v := view{Meta: r.Meta, Date: started.Format("2006-01-02 15:04:05 MST"), OK: r.OK(), Summary: r.Summary(),
		Counts: c, ScenarioTime: formatDuration(c.Duration), Errors: r.Errors, Warnings: r.Warnings}
	if r.Meta.Elapsed > 0 {
		v.Elapsed = formatDuration(r.Meta.Elapsed)
	}
	n := 0
	for i, f := range r.Features {
		fv := featureView{Anchor: fmt.Sprintf("f%d", i+1), Name: f.Name, Description: f.Description, Tags: tagViews(f.Tags)}
		byOutcome := map[Outcome]int{}
		var order []Outcome
		for _, sc := range f.Scenarios {
			n++
			sv := scenarioViewOf(sc, n, f.Tags)
			fv.Scenarios = append(fv.Scenarios, sv)
			if sv.Open || sc.Outcome == OutcomeExpectedFailure {
				v.Attention = append(v.Attention, sv)
			}
			if byOutcome[sc.Outcome] == 0 {
				order = append(order, sc.Outcome)
			}
			byOutcome[sc.Outcome]++
		}
		var parts []string
		for _, o := range order {
			parts = append(parts, fmt.Sprintf("%d %s", byOutcome[o], o))
		}
		fv.Counts = strings.Join(parts, ", ")
		v.Features = append(v.Features, fv)
	}
	return v
}

func scenarioViewOf(sc *Scenario, n int, featureTags []string) *scenarioView {
	sv := &scenarioView{Anchor: fmt.Sprintf("s%d", n), Feature: sc.Feature, Title: sc.Title(), Outcome: string(sc.Outcome),
		Class: outcomeClass(sc.Outcome), Duration: formatDuration(sc.Duration), Open: sc.Outcome.Fails(),
		ExpectedReason: sc.ExpectedReason(), SkipReason: sc.SkipReason()}
	var own []string // the feature's tags are shown once, on the feature
	for _, t := range sc.Tags {
		if !slices.Contains(featureTags, t) {
			own = append(own, t)
		}
	}
	sv.Tags = tagViews(own)
	shown := map[string]bool{} // steps that check one token each attach it again
	for _, st := range sc.Steps {
		sv.Steps = append(sv.Steps, stepViewOf(st, shown))
	}
	return sv
}

func stepViewOf(st *Step, shownTokens map[string]bool) stepView {
	v := stepView{Keyword: strings.TrimSpace(st.Keyword), Name: st.Name, Status: string(st.Status), Icon: statusIcon(st.Status),
		Error: validText(st.Error)}
	if st.Duration > 0 {
		v.Duration = formatDuration(st.Duration)
	}
	for _, a := range st.Attachments {
		switch {
		case a.IsImage():
			// Re-encoded from the decoded bytes, with a media type from the allow-list: nothing
			// from the report's input reaches the URI unchecked.
			src := "data:" + a.MediaType + ";base64," + base64.StdEncoding.EncodeToString(a.Data)
			v.Images = append(v.Images, imageView{Name: a.Name, Src: template.URL(src)})
		case a.IsToken():
			t, err := a.Token()
			if err != nil {
				v.Texts = append(v.Texts, textAttachment(a, "undecodable token: "+err.Error()))
				continue
			}
			tv := tokenView{Name: a.Name, Kind: t.Kind, Header: t.Header, Claims: t.Claims, Repeat: shownTokens[string(a.Data)]}
			shownTokens[string(a.Data)] = true
			v.Tokens = append(v.Tokens, tv)
		case a.IsSkipReason():
			// Shown on the scenario.
		default:
			v.Texts = append(v.Texts, textAttachment(a, ""))
		}
	}
	return v
}

func textAttachment(a Attachment, note string) textView {
	info := fmt.Sprintf("%s, %d bytes", a.MediaType, len(a.Data))
	if note != "" {
		info += "; " + note
	}
	tv := textView{Name: a.Name, Info: info}
	switch {
	case strings.Contains(a.MediaType, "json"):
		var pretty bytes.Buffer
		if json.Indent(&pretty, a.Data, "", "  ") == nil {
			tv.Body = validText(pretty.String())
		} else {
			tv.Body = validText(string(a.Data))
		}
	case strings.HasPrefix(a.MediaType, "text/") || utf8.Valid(a.Data):
		tv.Body = validText(string(a.Data))
	default:
		tv.Body = "(binary, not shown; it is in cucumber.json)"
	}
	if len(tv.Body) > maxText {
		tv.Body = strings.ToValidUTF8(tv.Body[:maxText], "") + fmt.Sprintf("\n… (%d more bytes in cucumber.json)", len(tv.Body)-maxText)
	}
	return tv
}

// validText keeps invalid UTF-8 from a server's body out of the page.
func validText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func tagViews(tags []string) []tagView {
	var out []tagView
	for _, t := range tags {
		url, title, _ := SpecLink(t)
		out = append(out, tagView{Name: t, URL: url, Title: title})
	}
	return out
}

func outcomeClass(o Outcome) string {
	switch o {
	case OutcomeExpectedFailure:
		return "xfail"
	case OutcomeUnexpectedPass:
		return "xpass"
	case OutcomePassed, OutcomeFailed, OutcomeSkipped, OutcomeUndefined, OutcomePending:
		return string(o)
	}
	return "failed"
}

func statusIcon(s Status) string {
	switch s {
	case Passed:
		return "✓"
	case Skipped:
		return "–"
	case Undefined:
		return "?"
	case Pending:
		return "…"
	}
	return "✗"
}
