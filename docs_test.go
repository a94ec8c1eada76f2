package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/twostep/twostep/auth"
)

// TestEventTypesDocumented: every security event type has its row in the
// README's table (people and tools filter on these names).
func TestEventTypesDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	name := regexp.MustCompile("`([A-Z_]+)`")
	for line := range strings.SplitSeq(string(readme), "\n") {
		if first, _, ok := strings.Cut(strings.TrimPrefix(line, "|"), "|"); ok && strings.HasPrefix(line, "| `") {
			for _, m := range name.FindAllStringSubmatch(first, -1) {
				documented[m[1]] = true
			}
		}
	}
	for _, typ := range auth.EventTypes {
		if !documented[typ] {
			t.Errorf("README.md's table of security events has no row for %s", typ)
		}
	}
}
