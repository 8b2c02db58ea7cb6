package steps

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	tagexpressions "github.com/cucumber/tag-expressions/go/v6"
)

// godogTags turns a tag expression into the syntax godog v0.15 filters with. Cucumber's standard
// expressions ("@a or @b", "and", "not", parentheses) are what users write; godog reads only an AND
// of ORs ("@a,@b && ~@c"), and silently matches nothing given the standard words. A standard
// expression is parsed with Cucumber's own tag-expressions library and rewritten, through its
// truth table, into that conjunctive form (each assignment of its tags that it rejects becomes one
// OR-clause that rules the assignment out). An expression in godog's syntax passes as it is.
func godogTags(expr string) (string, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" || legacyTags.MatchString(expr) && !standardWords.MatchString(expr) {
		return expr, nil
	}
	ev, err := parseTagExpression(expr)
	if err != nil {
		return "", fmt.Errorf("steps: the tag expression %q: %w", expr, err)
	}
	var atoms []string
	for _, t := range tagAtom.FindAllString(expr, -1) {
		if !slices.Contains(atoms, t) {
			atoms = append(atoms, t)
		}
	}
	if len(atoms) > 12 {
		return "", fmt.Errorf("steps: the tag expression %q names %d tags; at most 12 can be combined", expr, len(atoms))
	}
	var clauses []string
	for row := range 1 << len(atoms) {
		var on []string
		for i, a := range atoms {
			if row&(1<<i) != 0 {
				on = append(on, a)
			}
		}
		if ev.Evaluate(on) {
			continue
		}
		lits := make([]string, len(atoms))
		for i, a := range atoms {
			if row&(1<<i) != 0 {
				lits[i] = "~" + a
			} else {
				lits[i] = a
			}
		}
		clauses = append(clauses, strings.Join(lits, ","))
	}
	if len(clauses) == 1<<len(atoms) {
		return "", fmt.Errorf("steps: the tag expression %q matches no scenario whatever its tags", expr)
	}
	return strings.Join(clauses, " && "), nil
}

// parseTagExpression parses with the library, which panics on some malformed input ("@a and").
func parseTagExpression(expr string) (ev tagexpressions.Evaluatable, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, fmt.Errorf("it is incomplete or malformed (%v)", r)
		}
	}()
	return tagexpressions.Parse(expr)
}

var (
	tagAtom       = regexp.MustCompile(`@[^\s()@,~&|!]+`)
	legacyTags    = regexp.MustCompile(`&&|~|,`)
	standardWords = regexp.MustCompile(`(?i)(^|[\s(])(and|or|not)([\s(]|$)|[()]`)
)
