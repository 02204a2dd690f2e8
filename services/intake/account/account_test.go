package account

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordsAreHashedAndVerified(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q (%v)", h, err)
	}
	if ok, err := VerifyPassword("correct horse battery staple", h); !ok || err != nil {
		t.Fatalf("the right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword("correct horse battery stapler", h); ok {
		t.Fatal("a wrong password verified")
	}
	again, _ := HashPassword("correct horse battery staple")
	if again == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "plain"} {
		if _, err := VerifyPassword("x", bad); err == nil {
			t.Errorf("hash %q read", bad)
		}
	}
	for p, ok := range map[string]bool{"short": false, "  padded password  ": false, "a good long passphrase": true} {
		if (CheckPassword(p) == nil) != ok {
			t.Errorf("CheckPassword(%q) = %v", p, CheckPassword(p))
		}
	}
}

func TestFailedSignInsAreThrottled(t *testing.T) {
	l := DefaultLimits()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if limited, _ := l.Throttled(4, 19, t0, t0); limited {
		t.Error("throttled under the limits")
	}
	if limited, until := l.Throttled(5, 0, t0, time.Time{}); !limited || !until.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("5 failures for one account: %v until %v", limited, until)
	}
	if limited, _ := l.Throttled(0, 20, time.Time{}, t0); !limited {
		t.Error("20 failures from one address not throttled")
	}
}
