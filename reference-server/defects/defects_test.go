package defects_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
)

func TestSwitches(t *testing.T) {
	if len(defects.All) < 15 {
		t.Fatalf("%d defect switches, the issue asks for at least 15", len(defects.All))
	}
	if len(defects.All) > 64 {
		t.Fatalf("%d switches do not fit the 64-bit set", len(defects.All))
	}
	var s defects.Set
	for _, sw := range defects.All {
		if s.On(sw.Name) {
			t.Errorf("%s is on by default", sw.Name)
		}
		if sw.Description == "" {
			t.Errorf("%s has no description", sw.Name)
		}
	}
	if err := s.Turn(defects.ASSkipsPKCE, true); err != nil {
		t.Fatal(err)
	}
	if !s.On(defects.ASSkipsPKCE) || s.On(defects.ASSkipsConsent) || !s.Any() {
		t.Error("turning one switch on changed the wrong ones")
	}
	if err := s.Turn("no-such-defect", true); err == nil || !strings.Contains(err.Error(), "api-skips-audience") {
		t.Errorf("unknown defect: err = %v, want one listing the known names", err)
	}
	if err := s.Only([]defects.Name{defects.APIAcceptsAlgNone, "bogus"}); err == nil || !s.On(defects.ASSkipsPKCE) {
		t.Error("Only with an unknown name must fail and change nothing")
	}
	if err := s.Only([]defects.Name{defects.APIAcceptsAlgNone}); err != nil || s.On(defects.ASSkipsPKCE) || !s.On(defects.APIAcceptsAlgNone) {
		t.Errorf("Only: err %v; it must switch on exactly the named defects", err)
	}
	on := 0
	for _, sw := range s.List() {
		if sw.On {
			on++
		}
	}
	if on != 1 {
		t.Errorf("List reports %d switches on, want 1", on)
	}
	var nilSet *defects.Set
	if nilSet.On(defects.ASSkipsPKCE) || nilSet.Any() {
		t.Error("a nil set must have every switch off")
	}
}

func TestConcurrentTurnsAreNotLost(t *testing.T) {
	var s defects.Set
	var wg sync.WaitGroup
	for _, sw := range defects.All {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Turn(sw.Name, true) }()
	}
	wg.Wait()
	for _, sw := range s.List() {
		if !sw.On {
			t.Errorf("%s lost in a concurrent Turn", sw.Name)
		}
	}
}
