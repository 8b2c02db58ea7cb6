package steps

import (
	"strings"
	"testing"
)

// The standard Cucumber expressions select what they say, through godog's own filter.
func TestStandardTagExpressionsBecomeGodogs(t *testing.T) {
	scenarios := map[string][]string{
		"cc":      {"@client-credentials"},
		"browser": {"@authorization-code", "@browser"},
		"admin":   {"@client-credentials", "@needs-admin"},
		"none":    {"@discovery"},
	}
	for expr, want := range map[string][]string{
		"@client-credentials or @browser":                          {"admin", "browser", "cc"},
		"@client-credentials and not @needs-admin":                 {"cc"},
		"not @discovery":                                           {"admin", "browser", "cc"},
		"(@client-credentials or @discovery) and not @needs-admin": {"cc", "none"},
		"@client-credentials && ~@needs-admin":                     {"cc"}, // godog's own syntax passes through
		"@client-credentials,@discovery":                           {"admin", "cc", "none"},
	} {
		g, err := godogTags(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		var got []string
		for name, tags := range scenarios {
			if godogMatches(g, tags) {
				got = append(got, name)
			}
		}
		if strings.Join(sorted(got), " ") != strings.Join(want, " ") {
			t.Errorf("%q (godog %q) selects %v, want %v", expr, g, sorted(got), want)
		}
	}
	for _, bad := range []string{"@a and", "(@a or @b", "@a and not @a"} {
		if _, err := godogTags(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// godogMatches evaluates godog's syntax as godog v0.15 does: AND of comma-separated ORs, ~ negates.
func godogMatches(expr string, tags []string) bool {
	if expr == "" {
		return true
	}
	for _, clause := range strings.Split(expr, "&&") {
		ok := false
		for _, lit := range strings.Split(strings.TrimSpace(clause), ",") {
			lit = strings.TrimSpace(lit)
			neg := strings.HasPrefix(lit, "~")
			has := false
			for _, t := range tags {
				if t == strings.TrimPrefix(lit, "~") {
					has = true
				}
			}
			if has != neg {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
