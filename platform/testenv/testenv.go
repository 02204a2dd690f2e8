// Package testenv decides what a test does when a component it needs is
// not on the machine: under CI (the CI variable set, as .ci/run sets it)
// the test fails, since a component CI lacks would hide what it checks;
// elsewhere it is skipped, with how to get the component.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// CI says whether the tests run under CI.
func CI() bool { return os.Getenv("CI") != "" }

// Missing fails t under CI and skips it elsewhere, saying what is missing.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("needed in CI: %s", msg)
	}
	t.Skipf("skipped: %s", msg)
}
