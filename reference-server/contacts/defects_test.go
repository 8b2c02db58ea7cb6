package contacts_test

import (
	"net/http"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
)

// Each API defect lets through exactly its own misuse; with the switch off the same request is
// refused. (The validation defects are tested in package bearer; here, the API's own checks.)
func TestAPIDefects(t *testing.T) {
	cases := []struct {
		defect defects.Name
		path   string
		token  func(f *fixture, t *testing.T) (header, query string)
		closed int // status with the switch off
	}{
		{defects.APISkipsScopeCheck, "/api/accounts/globex/contacts",
			func(f *fixture, t *testing.T) (string, string) {
				return f.userToken(t, "user-paul", "update:contacts", "globex"), ""
			}, http.StatusForbidden},
		{defects.APIIgnoresAccount, "/api/accounts/initech/contacts",
			func(f *fixture, t *testing.T) (string, string) {
				return f.userToken(t, "user-paul", "read:contacts", "globex"), ""
			}, http.StatusForbidden},
		{defects.APIAcceptsQueryToken, "/api/accounts/globex/contacts",
			func(f *fixture, t *testing.T) (string, string) {
				return "", f.userToken(t, "user-paul", "read:contacts", "globex")
			}, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(string(c.defect), func(t *testing.T) {
			var d defects.Set
			f := setupWith(t, &d)
			header, query := c.token(f, t)
			path := c.path
			if query != "" {
				path += "?access_token=" + query
			}
			if r := f.do(t, http.MethodGet, path, header, ""); r.status != c.closed {
				t.Errorf("switch off: status %d, want %d", r.status, c.closed)
			}
			if err := d.Turn(c.defect, true); err != nil {
				t.Fatal(err)
			}
			if r := f.do(t, http.MethodGet, path, header, ""); r.status != http.StatusOK {
				t.Errorf("switch on: status %d, want 200 (the defect lets it through)", r.status)
			}
		})
	}
}
