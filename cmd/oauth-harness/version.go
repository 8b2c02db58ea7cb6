package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// harnessVersion names this build: the module version and the VCS revision Go stamped into it
// (with "+modified" for a dirty tree), so every report says which harness wrote it.
func harnessVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "oauth-harness (no build information)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var parts []string
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += "+modified"
		}
		parts = append(parts, rev)
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, t)
	}
	parts = append(parts, bi.GoVersion)
	return fmt.Sprintf("oauth-harness %s (%s)", v, strings.Join(parts, ", "))
}
