package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"testing"
)

// Whatever the cucumber JSON holds, parsing does not panic, and what parses renders to a page and
// to JUnit XML that parses.
func FuzzParse(f *testing.F) {
	// Compact seeds: the fuzzer minimises every new input, and that takes long on big ones.
	var seed bytes.Buffer
	if err := json.Compact(&seed, runGodog(f, map[string]string{"t.feature": simpleFeature})); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte(`[{"name":"F","elements":[{"id":"f;o;e;2","keyword":"Scenario Outline","name":"S","type":"scenario","steps":[` +
		`{"name":"s","result":{"status":"failed","error_message":"\u0000<x>"},"embeddings":[{"name":"token-a.json","mime_type":"application/json","data":"e30="}]}]}]}]`))
	list := []ExpectedFailure{{Scenario: "S", Reason: "r"}, {Scenario: "A wrong secret is refused", Reason: "r"}}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		r.ApplyExpectedFailures(list, false)
		var html, junit bytes.Buffer
		if err := WriteHTML(&html, r); err != nil {
			t.Fatal(err)
		}
		if err := WriteJUnit(&junit, r); err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(junit.Bytes(), new(parsedJUnit)); err != nil {
			t.Fatalf("%v\n%s", err, junit.String())
		}
	})
}
