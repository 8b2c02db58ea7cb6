package oauth

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// oidcScopeText describes the OpenID Connect scopes on the consent page.
var oidcScopeText = map[string]string{
	"openid":         "Confirm your identity",
	"profile":        "Read your name",
	"email":          "Read your email address",
	"offline_access": "Keep access to your data when you are not using it",
}

// pageHeaders forbid framing (clickjacking on login and consent), caching and referrer leaks.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, data any) {
	pageHeaders(w)
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		p.log.Error("render page", "page", name, "err", err)
	}
}

// errorPage shows an error to the user without redirecting anywhere.
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	noteError(r, code)
	p.render(w, status, "error.html", map[string]string{"Title": "Error", "Code": code, "Description": desc})
}
