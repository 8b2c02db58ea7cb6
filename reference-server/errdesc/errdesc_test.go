package errdesc_test

import (
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/errdesc"
)

func TestClean(t *testing.T) {
	got := errdesc.Clean("scope \"délete\"\\\r\nx")
	if want := "scope 'd?lete'/??x"; got != want {
		t.Errorf("Clean = %q, want %q", got, want)
	}
	for _, r := range got {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Errorf("forbidden %q left in %q", r, got)
		}
	}
}
