package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"sinp.occitanie.fr/platform/testenv"
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

// A password file another could have written or can read, or a link, is
// refused; processes starting together all read the one written first.
func TestThePasswordFileIsTrustedOnlyWhenPrivate(t *testing.T) {
	for name, plant := range map[string]func(dir string) error{
		"readable by others": func(dir string) error {
			if err := os.WriteFile(PasswordFile(dir), []byte("attackerknows\n"), 0o600); err != nil {
				return err
			}
			return os.Chmod(PasswordFile(dir), 0o644)
		},
		"a link":                     func(dir string) error { return os.Symlink("/etc/hostname", PasswordFile(dir)) },
		"a directory open to others": func(dir string) error { return os.Chmod(dir, 0o777) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := plant(dir); err != nil {
				t.Fatal(err)
			}
			if pw, err := Password(dir); err == nil {
				t.Fatalf("trusted, password %q", pw)
			}
		})
	}
	for range 20 {
		dir := t.TempDir()
		got := make(chan string, 8)
		for range 8 {
			go func() {
				pw, err := Password(dir)
				if err != nil {
					pw = "error: " + err.Error()
				}
				got <- pw
			}()
		}
		first := <-got
		for range 7 {
			if pw := <-got; pw != first || strings.HasPrefix(pw, "error") {
				t.Fatalf("processes starting together read %q and %q", first, pw)
			}
		}
	}
}

// A server that admits anyone (one from before the password) is not
// joined.
func TestAnOpenServerIsNotJoined(t *testing.T) {
	e, err := StartEmbedded(t.TempDir(), -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	if err := Probe(e.URL); err != nil {
		t.Fatalf("the deployment's server: %v", err)
	}
	open, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go open.Start()
	defer open.Shutdown()
	if !open.ReadyForConnections(5 * time.Second) {
		t.Fatal("not ready")
	}
	u, _ := url.Parse(e.URL)
	u.Host = strings.TrimPrefix(open.ClientURL(), "nats://")
	if err := Probe(u.String()); !errors.Is(err, ErrOpenServer) {
		t.Fatalf("an open server: %v", err)
	}
}

// A client never dials a loopback port another user listens on: that
// process would be handed the bus's password.
func TestNoPasswordGoesToAnotherUsersListener(t *testing.T) {
	own, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if err := CheckLocalListener(own.Addr().String()); err != nil {
		t.Fatalf("this user's own listener: %v", err)
	}
	if os.Getuid() != 0 {
		testenv.Missing(t, "root, to listen as another user")
	}
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	squatter := exec.Command("/usr/bin/python3", "-c", fmt.Sprintf(
		"import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',%d))\ns.listen()\nprint('up',flush=True)\ntime.sleep(60)", port))
	squatter.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := squatter.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := squatter.Start(); err != nil {
		testenv.Missing(t, "a listener run as nobody (/usr/bin/python3): %v", err)
	}
	defer func() { _ = squatter.Process.Kill(); _ = squatter.Wait() }()
	line := make([]byte, 3)
	if _, err := io.ReadFull(out, line); err != nil {
		t.Fatalf("the squatter did not start: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := CheckLocalListener(addr); !errors.Is(err, ErrForeignListener) {
		t.Fatalf("a port nobody holds: %v", err)
	}
	if err := Probe("nats://" + User + ":secret@" + addr); !errors.Is(err, ErrForeignListener) {
		t.Fatalf("probing it: %v", err)
	}
}
