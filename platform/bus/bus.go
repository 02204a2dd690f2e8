package bus

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config is the NATS part of a process's configuration.
type Config struct {
	// Empty: start an embedded server with JetStream (store under the data
	// directory).
	URL string `env:"SINP_NATS_URL"`
	// Port of the embedded server; -1 picks a free one.
	EmbeddedPort int `env:"SINP_NATS_EMBEDDED_PORT" default:"4223"`
	// How long JetStream remembers a Nats-Msg-Id to drop a republished event.
	DedupWindow time.Duration `env:"SINP_NATS_DEDUP_WINDOW" default:"2h"`
	// How many times a consumer gets a message before it goes to the DLQ.
	MaxDeliver int `env:"SINP_NATS_MAX_DELIVER" default:"5"`
	// How long a consumer has to ack before JetStream redelivers.
	AckWait time.Duration `env:"SINP_NATS_ACK_WAIT" default:"30s"`
	// Streams replicas (1 on a single server; 3 on a cluster).
	Replicas int `env:"SINP_NATS_REPLICAS" default:"1"`
}

// Validate checks the values that have limits.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxDeliver < 1 {
		errs = append(errs, errors.New("SINP_NATS_MAX_DELIVER: must be at least 1"))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, errors.New("SINP_NATS_REPLICAS: must be between 1 and 5"))
	}
	if c.DedupWindow < time.Second {
		errs = append(errs, errors.New("SINP_NATS_DEDUP_WINDOW: must be at least 1s"))
	}
	return errors.Join(errs...)
}

// Embedded is a NATS server with JetStream running inside the process.
type Embedded struct {
	Server *server.Server
	URL    string
	lock   *os.File
}

// User is the user an embedded server knows; its password is kept in the
// server's store directory (Password).
const User = "sinp"

// PasswordFile is where an embedded server's password is kept, in its store
// directory (readable by its owner only): every process of a deployment
// that shares the data directory reads it there.
func PasswordFile(dir string) string { return filepath.Join(dir, "password") }

// Password is the embedded server's password of the store under dir,
// created on first use. The file must be this user's, readable by no one
// else, and not a link; the directory writable by no one else: a password
// someone else chose, or can read, admits them to the bus.
func Password(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	if err := private(dir, true); err != nil {
		return "", err
	}
	f := PasswordFile(dir)
	pw, err := readPassword(f)
	if !errors.Is(err, fs.ErrNotExist) {
		return pw, err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	pw = base64.RawURLEncoding.EncodeToString(b)
	// Written whole under another name, then linked into place: whoever
	// comes first wins, and no one reads a half-written file.
	tmp, err := os.CreateTemp(dir, ".password-*")
	if err != nil {
		return "", fmt.Errorf("bus: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(pw + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Close()); err != nil {
		return "", fmt.Errorf("bus: %s: %w", f, err)
	}
	if err := os.Link(tmp.Name(), f); err == nil {
		return pw, nil
	} else if !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("bus: %w", err)
	}
	return readPassword(f)
}

func readPassword(f string) (string, error) {
	h, err := os.OpenFile(f, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", fmt.Errorf("bus: %s is a link: refused", f)
		}
		return "", err
	}
	defer h.Close()
	if err := private(f, false); err != nil {
		return "", err
	}
	got, err := io.ReadAll(io.LimitReader(h, 1<<10))
	if err != nil {
		return "", fmt.Errorf("bus: %w", err)
	}
	pw := strings.TrimSpace(string(got))
	if pw == "" {
		return "", fmt.Errorf("bus: %s is empty", f)
	}
	return pw, nil
}

// private refuses a file (or directory) that is not this user's or that
// others may read (a directory: write).
func private(path string, dir bool) error {
	st, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	kind, mask := "file", fs.FileMode(0o077)
	if dir {
		kind, mask = "directory", 0o022
	}
	switch {
	case dir && !st.IsDir(), !dir && !st.Mode().IsRegular():
		return fmt.Errorf("bus: %s is not a plain %s: refused", path, kind)
	case ok && int(sys.Uid) != os.Getuid():
		return fmt.Errorf("bus: %s belongs to uid %d, not to this user: refused", path, sys.Uid)
	case st.Mode().Perm()&mask != 0:
		return fmt.Errorf("bus: %s is open to others (mode %v): refused", path, st.Mode().Perm())
	}
	return nil
}

// EmbeddedURL is how to reach the embedded server of the store under dir
// on 127.0.0.1:port, its credentials included.
func EmbeddedURL(dir string, port int) (string, error) {
	pw, err := Password(dir)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "nats", User: url.UserPassword(User, pw), Host: fmt.Sprintf("127.0.0.1:%d", port)}
	return u.String(), nil
}

// StartEmbedded starts a JetStream server storing under dir, listening on
// 127.0.0.1:port (-1 for any free port). It admits only User with the
// store's Password: whoever can reach the bus can speak for any service,
// and 127.0.0.1 is every local user's. Its URL carries the credentials.
func StartEmbedded(dir string, port int, log *slog.Logger) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("bus.StartEmbedded: %w", err)
	}
	abs, _ := filepath.Abs(dir)
	// One server per store: a second one on the same directory (another
	// port) would corrupt it.
	lock, err := os.OpenFile(filepath.Join(abs, "server.lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("bus.StartEmbedded: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("bus.StartEmbedded: another NATS server uses the store %s (join it with SINP_NATS_URL, or stop it: sinp nats stop)", abs)
	}
	pw, err := Password(abs)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("bus.StartEmbedded: %w", err)
	}
	opts := &server.Options{
		Username:   User,
		Password:   pw,
		ServerName: "sinp-embedded",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   abs,
		NoSigs:     true,
		NoLog:      true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("bus.StartEmbedded: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("bus.StartEmbedded: server not ready on 127.0.0.1:%d after 15s (port taken? set SINP_NATS_EMBEDDED_PORT)", port)
	}
	u, _ := url.Parse(ns.ClientURL())
	u.User = url.UserPassword(User, pw)
	if log != nil {
		log.Info("embedded NATS server started", "url", Redacted(u.String()), "password", PasswordFile(abs), "store", abs)
	}
	return &Embedded{Server: ns, URL: u.String(), lock: lock}, nil
}

// Shutdown stops the server, waits for it, and frees its store.
func (e *Embedded) Shutdown() {
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
	if e.lock != nil {
		e.lock.Close()
	}
}

// Probe says whether the bus at url answers and admits its credentials
// (ErrAuthorization when it refuses them), without keeping the connection.
func Probe(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.Name("sinp probe"), nats.NoReconnect(),
		nats.SetCustomDialer(checkedDialer{timeout: time.Second}))
	if err != nil {
		return err
	}
	defer nc.Close()
	if !nc.AuthRequired() {
		// A server from before the password (or not this deployment's)
		// admits anyone: it must not be joined.
		return ErrOpenServer
	}
	return nil
}

// ErrOpenServer: the server admits clients without credentials.
var ErrOpenServer = errors.New("this NATS server admits anyone (started before it took a password? stop it, `sinp nats stop`, and start it again)")

// Redacted is a NATS URL (or a comma-separated list of them) fit for a log
// or an error: a password, or a token given as the user, shows as xxxxx.
// A URL is read as nats.go reads it (nats:// added when it names no
// scheme); one with an @ that does not parse into a user keeps nothing
// before its last @.
func Redacted(urls string) string {
	parts := strings.Split(urls, ",")
	for i, raw := range parts {
		raw = strings.TrimSpace(raw)
		parsed := raw
		if !strings.Contains(raw, "://") {
			parsed = "nats://" + raw
		}
		u, err := url.Parse(parsed)
		switch {
		case (err != nil || u.Host == "") && strings.Contains(urls, "@"):
			// A comma inside a password split the list in the wrong
			// place, or a password a URL cannot hold: nothing of the
			// whole before its last @.
			return "xxxxx@" + urls[strings.LastIndex(urls, "@")+1:]
		case err != nil || u.Host == "":
			parts[i] = raw
		case u.User != nil && u.User.Username() != "" && !hasPassword(u.User):
			u.User = url.User("xxxxx") // nats://<token>@host
			parts[i] = u.String()
		case u.User != nil:
			parts[i] = u.Redacted()
		case strings.Contains(raw, "@"):
			// A password with # / ? in it: nats.go may still read it.
			parts[i] = "xxxxx@" + raw[strings.LastIndex(raw, "@")+1:]
		default:
			parts[i] = raw
		}
	}
	return strings.Join(parts, ",")
}

func hasPassword(u *url.Userinfo) bool { _, ok := u.Password(); return ok }

// Connect opens a connection that keeps reconnecting, and its JetStream
// context.
func Connect(ctx context.Context, url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.SetCustomDialer(checkedDialer{timeout: 2 * time.Second}),
	)
	if errors.Is(err, nats.ErrAuthorization) {
		return nil, nil, fmt.Errorf("bus.Connect: SINP_NATS_URL=%s: %w (an embedded server admits nats://%s:<password>@host:port, its password in <its data dir>/nats/password)",
			Redacted(url), err, User)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bus.Connect: SINP_NATS_URL=%s: %w", Redacted(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("bus.Connect: %w", err)
	}
	return nc, js, nil
}

// RevocationKeep is how long a revocation is kept: longer than any token
// may live (refresh tokens, and tracking tokens, which last a year).
const RevocationKeep = 400 * 24 * time.Hour

// EnsureStreams creates or updates the platform's streams. Safe to call
// from every process at start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, c Config) error {
	streams := []jetstream.StreamConfig{
		{
			Name:        StreamEvents,
			Description: "Every event of the SINP platform (subject tree in the README)",
			Subjects:    EventSubjects,
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Duplicates:  c.DedupWindow,
			Replicas:    c.Replicas,
			MaxAge:      365 * 24 * time.Hour,
		},
		{
			Name:        StreamDeadLetter,
			Description: "Messages a consumer gave up on, with the reason in headers",
			Subjects:    []string{SubjectDeadLetterPrefix + ">"},
			Storage:     jetstream.FileStorage,
			Duplicates:  c.DedupWindow,
			Replicas:    c.Replicas,
			MaxAge:      90 * 24 * time.Hour,
		},
		{
			Name:        StreamAuthKeys,
			Description: "Public keys that sign access tokens",
			Subjects:    []string{SubjectSigningKey},
			Storage:     jetstream.FileStorage,
			Duplicates:  c.DedupWindow,
			Replicas:    c.Replicas,
		},
		{
			Name:        StreamRevocations,
			Description: "Revoked tokens, sessions and subjects; kept longer than any token lives",
			Subjects:    []string{SubjectTokenRevoked},
			Storage:     jetstream.FileStorage,
			Duplicates:  c.DedupWindow,
			Replicas:    c.Replicas,
			MaxAge:      RevocationKeep,
		},
	}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus.EnsureStreams: %s: %w", sc.Name, err)
		}
	}
	return nil
}
