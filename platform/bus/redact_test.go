package bus

import (
	"context"
	"strings"
	"testing"
)

func TestRedactedHidesPasswordsAndTokens(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://sinp:S3cretNatsPw@127.0.0.1:4222", "nats://sinp:xxxxx@127.0.0.1:4222"},
		{"nats://s3cr3tt0ken@nats.internal:4222", "nats://xxxxx@nats.internal:4222"},
		{"nats://a:pw1@n1:4222, nats://a:pw2@n2:4222", "nats://a:xxxxx@n1:4222,nats://a:xxxxx@n2:4222"},
		{"nats://a:p%zzw@n1:4222", "xxxxx@n1:4222"},
		{"sinp:s3cret@nats:4222", "nats://sinp:xxxxx@nats:4222"},
		{"nats://sinp:1234#secret@nats:4222", "xxxxx@nats:4222"},
		{"nats://sinp:12/34@nats:4222", "xxxxx@nats:4222"},
		{"nats://sinp:9/xK?a=b@nats:4222", "xxxxx@nats:4222"},
		{"nats://sinp:pa,ssword@127.0.0.1:4223", "xxxxx@127.0.0.1:4223"},
		{"", ""},
	} {
		if got := Redacted(c.in); got != c.want {
			t.Errorf("Redacted(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A connection that fails names the URL without its secret.
func TestConnectErrorsCarryNoPassword(t *testing.T) {
	_, _, err := Connect(context.Background(), "nats://sinp:S3cretNatsPw@127.0.0.1:1", "test")
	if err == nil || strings.Contains(err.Error(), "S3cretNatsPw") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Connect: %v", err)
	}
}
