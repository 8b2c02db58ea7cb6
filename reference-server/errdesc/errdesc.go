// Package errdesc keeps human-readable error descriptions inside the characters the OAuth
// specifications allow (RFC 6749 §5.2 for error_description: %x20-21 / %x23-5B / %x5D-7E; RFC 6750
// §3 for the quoted strings of WWW-Authenticate). Descriptions often quote what the client sent.
package errdesc

import "strings"

// Clean replaces a double quote with a single one, a backslash with a slash, and any other character
// outside printable ASCII with '?'.
func Clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}
