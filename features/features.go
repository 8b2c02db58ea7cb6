// Package features is the conformance catalogue: one Gherkin feature file per capability, written in
// the seeds' language and tagged with the spec clause each scenario checks. The files are embedded so
// the one binary carries them.
package features

import "embed"

// FS holds every feature file.
//
//go:embed *.feature
var FS embed.FS
