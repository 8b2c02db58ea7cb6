package report

import (
	"regexp"
	"strings"
)

// SpecLink is the tag's place in the specification it cites, with a short title for the link,
// e.g. "@rfc6749-4.4" -> https://www.rfc-editor.org/rfc/rfc6749#section-4.4, "RFC 6749 §4.4".
// ok is false for tags that cite no specification.
//
//	@rfcNNNN              the RFC
//	@rfcNNNN-4.4.1        its section (#section-4.4.1); @rfcNNNN-A.1 an appendix (#appendix-A.1)
//	@oidc-core[-X]        OpenID Connect Core 1.0; X a section number (#rfc.section.X) or a
//	@oidc-discovery[-X]   named anchor of the spec (#IDToken); likewise Discovery 1.0 and
//	@oidc-registration[-X]  Dynamic Client Registration 1.0
//
// A suffix that is neither links to the document without an anchor.
func SpecLink(tag string) (url, title string, ok bool) {
	name := strings.TrimPrefix(tag, "@")
	if m := rfcTag.FindStringSubmatch(name); m != nil {
		url, title = "https://www.rfc-editor.org/rfc/rfc"+m[1], "RFC "+m[1]
		switch sec := m[2]; {
		case sec == "":
		case numericSection.MatchString(sec):
			url, title = url+"#section-"+sec, title+" §"+sec
		case appendixSection.MatchString(sec):
			url, title = url+"#appendix-"+sec, title+" appendix "+sec
		}
		return url, title, true
	}
	for _, s := range oidcSpecs {
		rest, found := strings.CutPrefix(name, s.prefix)
		if !found || (rest != "" && !strings.HasPrefix(rest, "-")) {
			continue
		}
		url, title = "https://openid.net/specs/"+s.page, s.title
		switch sec := strings.TrimPrefix(rest, "-"); {
		case sec == "":
		case numericSection.MatchString(sec):
			// xml2rfc (v2), which renders the OpenID specs, anchors every section like this.
			url, title = url+"#rfc.section."+sec, title+" §"+sec
		case namedAnchor.MatchString(sec):
			url, title = url+"#"+sec, title+" "+sec
		}
		return url, title, true
	}
	return "", "", false
}

var (
	rfcTag          = regexp.MustCompile(`^rfc([1-9][0-9]{0,4})(?:-(.*))?$`)
	numericSection  = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	appendixSection = regexp.MustCompile(`^[A-Z](\.[0-9]+)*$`)
	namedAnchor     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
	oidcSpecs       = []struct{ prefix, page, title string }{
		{"oidc-core", "openid-connect-core-1_0.html", "OpenID Connect Core 1.0"},
		{"oidc-discovery", "openid-connect-discovery-1_0.html", "OpenID Connect Discovery 1.0"},
		{"oidc-registration", "openid-connect-registration-1_0.html", "OpenID Connect Dynamic Client Registration 1.0"},
	}
)
