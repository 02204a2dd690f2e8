package bus

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// The embedded server admits only its user with the store's password,
// which is kept readable by its owner only; its URL carries both.
func TestTheEmbeddedServerWantsItsPassword(t *testing.T) {
	dir := t.TempDir()
	e, err := StartEmbedded(dir, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if u.User.Username() != User || len(pw) < 32 {
		t.Fatalf("URL %s", Redacted(e.URL))
	}
	if st, err := os.Stat(PasswordFile(dir)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", st, err)
	}
	if again, err := Password(dir); err != nil || again != pw {
		t.Fatalf("the store's password read again: %v", err)
	}
	nc, _, err := Connect(context.Background(), e.URL, "test")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	for name, bad := range map[string]string{
		"no credentials":   "nats://" + u.Host,
		"a wrong password": "nats://" + User + ":" + strings.Repeat("x", len(pw)) + "@" + u.Host,
		"another user":     "nats://intruder:" + pw + "@" + u.Host,
	} {
		_, _, err := Connect(context.Background(), bad, "test")
		if !errors.Is(err, nats.ErrAuthorization) || strings.Contains(err.Error(), pw) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
