package testenv

import "testing"

func TestCIFollowsTheVariable(t *testing.T) {
	t.Setenv("CI", "")
	if CI() {
		t.Error("CI empty reads as CI")
	}
	t.Setenv("CI", "true")
	if !CI() {
		t.Error("CI=true does not read as CI")
	}
}
