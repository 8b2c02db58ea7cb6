// Package features is the conformance catalogue: one Gherkin feature file per capability, written in
// the seeds' language and tagged with the spec clause each scenario checks. The files are embedded so
// the one binary carries them.
package features

import "embed"

// FS holds every feature file of the server catalogue.
//
//go:embed *.feature
var FS embed.FS

// ClientFS holds the client certification features (oauth-harness certify-client), under client/:
// they check a partner's app, with the harness as the authorization server.
//
//go:embed client/*.feature
var ClientFS embed.FS
