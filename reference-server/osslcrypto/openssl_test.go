//go:build cgo && unix

package osslcrypto

import (
	"strings"
	"testing"
)

// TestLoadMissingLibrary: when no libcrypto is found the loader says which names it tried, and does
// not call openssl.Init (which takes effect once per process), so nothing else is disturbed.
func TestLoadMissingLibrary(t *testing.T) {
	saved := libcryptoNames
	t.Cleanup(func() { libcryptoNames = saved })
	libcryptoNames = []string{"libcrypto.so.0-does-not-exist", "/nonexistent/libcrypto.so.3"}
	v, err := loadLibcrypto()
	if err == nil || v != "" || !strings.Contains(err.Error(), "libcrypto.so.0-does-not-exist") {
		t.Fatalf("loadLibcrypto = %q, %v; want an error naming what was tried", v, err)
	}
	libcryptoNames = saved
	if _, err := loadLibcrypto(); err != nil {
		t.Skipf("no libcrypto on this machine: %v", err)
	}
}
