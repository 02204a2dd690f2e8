package account

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/migrations"
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

func TestArgon2WorkIsBoundedPerProcess(t *testing.T) {
	decoy := decoyHash()
	held := make([]func(), 0, cap(argonSlots))
	for range cap(argonSlots) {
		release, err := argonSlot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := verifyPassword(ctx, "x", decoy); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hash computed with every slot taken: %v", err)
	}
	for _, release := range held {
		release()
	}
	if ok, err := verifyPassword(context.Background(), "decoy password, never matched", decoy); !ok || err != nil {
		t.Errorf("after the slots are freed: %v %v", ok, err)
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

func TestASignInEmailIsCheckedBeforeAnyQuery(t *testing.T) {
	for _, c := range []struct {
		email string
		ok    bool
	}{
		{"jeanne@faunae.fr", true},
		{"Jeanne.Dupont@Faunae.FR", true},
		{"élodie@conservatoire-occitanie.fr", true},
		{strings.Repeat("a", 254-len("@faunae.fr")) + "@faunae.fr", true},
		{"", false},
		{strings.Repeat("a", 255-len("@faunae.fr")) + "@faunae.fr", false},
		{strings.Repeat("a", 3000) + "@faunae.fr", false},
		{"jeanne\xff@faunae.fr", false},
		{"jeanne\x00@faunae.fr", false},
		{"jeanne\n@faunae.fr", false},
		{"jeanne\u0085@faunae.fr", false},
	} {
		if got := emailProblem(c.email); (got == "") != c.ok {
			t.Errorf("emailProblem(%.40q) = %q", c.email, got)
		}
	}
}

func TestWhetherASessionMayStillMintTokens(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	live := sessionFacts{Created: t0, Expires: t0.Add(720 * time.Hour), PasswordChanged: t0.Add(-time.Hour)}
	for _, c := range []struct {
		name  string
		edit  func(*sessionFacts)
		at    time.Time
		valid bool
	}{
		{"opened after the last password change", func(*sessionFacts) {}, t0.Add(time.Minute), true},
		{"opened as the password was set", func(f *sessionFacts) { f.PasswordChanged = t0 }, t0.Add(time.Minute), true},
		{"opened before the password changed", func(f *sessionFacts) { f.PasswordChanged = t0.Add(time.Millisecond) }, t0.Add(time.Minute), false},
		{"signed out", func(f *sessionFacts) { f.Revoked = true }, t0.Add(time.Minute), false},
		{"account disabled", func(f *sessionFacts) { f.AccountDisabled = true }, t0.Add(time.Minute), false},
		{"expired", func(*sessionFacts) {}, t0.Add(720 * time.Hour), false},
	} {
		f := live
		c.edit(&f)
		if got := f.usable(c.at); got != c.valid {
			t.Errorf("%s: usable = %v", c.name, got)
		}
	}
}

// The rest runs against a real PostgreSQL (pgtest).

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder keeps the events of the transactions that committed.
type recorder struct {
	mu     sync.Mutex
	events []bus.Event
}

func (r *recorder) Emit(_ context.Context, tx pgx.Tx, ev bus.Event) (string, error) {
	if _, err := bus.SubjectFor(ev); err != nil {
		return "", err
	}
	if !pg.AfterCommit(tx, func() { r.mu.Lock(); r.events = append(r.events, ev); r.mu.Unlock() }) {
		return "", errors.New("recorder: a transaction begun outside pg.InTx")
	}
	return "ev-1", nil
}

func (r *recorder) revocations() []*eventsv1.TokenRevoked {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*eventsv1.TokenRevoked
	for _, ev := range r.events {
		if rv, ok := ev.(*eventsv1.TokenRevoked); ok {
			out = append(out, rv)
		}
	}
	return out
}

type fixture struct {
	svc    *Service
	db     *pgxpool.Pool
	clock  *manualClock
	events *recorder
	signer auth.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: pgtest.NewDB(t, migrations.Intake), clock: &manualClock{now: t0}, events: &recorder{}, signer: auth.NewSigner(key)}
	f.svc = &Service{DB: f.db, Emitter: f.events, Signer: &f.signer, Now: f.clock.Now, AccessTTL: 15 * time.Minute,
		RefreshTTL: 720 * time.Hour, Limits: DefaultLimits(), Log: slog.New(slog.DiscardHandler),
		Structures: func(context.Context, pg.Querier, string) (bool, error) { return true, nil }}
	return f
}

var operator = auth.Principal{Kind: auth.Operator, Subject: "local:root", Name: "root"}

func (f *fixture) account(t *testing.T, email, password string) Account {
	t.Helper()
	a, err := f.svc.Create(context.Background(), operator, NewAccount{Email: email, Name: "Jeanne", Kind: auth.Requester,
		StructureID: "st-1", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// accepts says whether a service that applied every revocation intake
// published would still take the access token.
func (f *fixture) accepts(token string) bool {
	v := auth.NewVerifier()
	v.AddKey(f.signer.Public())
	for _, ev := range f.events.revocations() {
		r := auth.Revocation{TokenID: ev.TokenId, Session: ev.SessionId, Subject: ev.Subject, ExpiresAt: ev.GetExpiresAt().AsTime()}
		if ev.IssuedBefore != nil {
			r.IssuedBefore = ev.IssuedBefore.AsTime()
		}
		v.Revoke(r)
	}
	_, err := v.Verify(token, f.clock.Now())
	return err == nil
}

func (f *fixture) failures(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), `SELECT count(*) FROM intake.sign_in_failure`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// outcomes counts what n attempts run at once gave: verified (right or
// wrong password), throttled, or another error (a failure of the test).
type outcomes struct{ right, wrong, throttled int }

func race(t *testing.T, n int, attempt func(i int) error, wrongPassword func(error) bool) outcomes {
	t.Helper()
	var mu sync.Mutex
	var o outcomes
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			err := attempt(i)
			var throttled ThrottledError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				o.right++
			case errors.As(err, &throttled):
				o.throttled++
			case wrongPassword(err):
				o.wrong++
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return o
}

func isBadCredentials(err error) bool { return errors.Is(err, ErrBadCredentials) }

func TestConcurrentGuessesOnOneAccountStopAtTheLimit(t *testing.T) {
	f := newFixture(t)
	f.account(t, "jeanne@faunae.fr", "the right passphrase")
	const n = 60
	o := race(t, n+1, func(i int) error {
		pw := "a wrong guess"
		if i == n/2 {
			pw = "the right passphrase"
		}
		// Each guess from an address of its own: only the account's limit holds.
		_, _, err := f.svc.SignIn(context.Background(), "Jeanne@Faunae.fr", pw, fmt.Sprintf("192.0.2.%d", i))
		return err
	}, isBadCredentials)
	// A right password is no failure: it may be checked besides the
	// wrong ones the limit lets through.
	if o.wrong > f.svc.Limits.PerAccount || o.right > 1 || o.throttled != n+1-o.wrong-o.right {
		t.Errorf("%d concurrent guesses on one account (limit %d): %d wrong ones checked, %d right, %d throttled",
			n+1, f.svc.Limits.PerAccount, o.wrong, o.right, o.throttled)
	}
	if got := f.failures(t); got > f.svc.Limits.PerAccount {
		t.Errorf("%d failures recorded", got)
	}
}

func TestConcurrentGuessesFromOneAddressStopAtTheLimit(t *testing.T) {
	f := newFixture(t)
	const n = 40
	o := race(t, n, func(i int) error {
		_, _, err := f.svc.SignIn(context.Background(), fmt.Sprintf("someone%d@faunae.fr", i), "a wrong guess", "198.51.100.7")
		return err
	}, isBadCredentials)
	if o.right != 0 || o.wrong > f.svc.Limits.PerAddress || o.throttled != n-o.wrong {
		t.Errorf("%d concurrent guesses from one address (limit %d): %d checked, %d throttled", n, f.svc.Limits.PerAddress, o.wrong, o.throttled)
	}
}

func TestALongEmailIsRefusedNamingTheField(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	long := strings.Repeat("a", 3000) + "@faunae.fr"
	_, _, err := f.svc.SignIn(ctx, long, "a wrong guess", "192.0.2.1")
	if status.Code(err) != codes.InvalidArgument || len(grpcserver.Violations(err)) != 1 || grpcserver.Violations(err)[0].Field != "email" {
		t.Fatalf("a 3 kB email: %v", err)
	}
	srv := &Server{Accounts: f.svc}
	for _, req := range []*intakev1.SignInRequest{
		{Email: long, Password: "a wrong guess"},
		{Email: "jeanne\x00@faunae.fr", Password: "a wrong guess"},
		{Email: "jeanne@faunae.fr"},
	} {
		_, err := srv.SignIn(ctx, req)
		if status.Code(err) != codes.InvalidArgument || strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("SignIn(%.30q, %d-byte password): %v", req.Email, len(req.Password), err)
		}
	}
	_, err = srv.SignIn(ctx, &intakev1.SignInRequest{Email: "jeanne@faunae.fr"})
	if v := grpcserver.Violations(err); len(v) != 1 || v[0].Field != "password" {
		t.Errorf("no password: %v", v)
	}
	if f.failures(t) != 0 {
		t.Error("a refused request was counted as a failed sign-in")
	}
}

func TestAnUnexpectedErrorReachesTheClientWithoutItsText(t *testing.T) {
	var logged bytes.Buffer
	srv := &Server{Accounts: &Service{Log: slog.New(slog.NewTextHandler(&logged, nil))}}
	err := srv.status(errors.New(`ERROR: index row size 3056 exceeds btree version 4 maximum 2704 for index "sign_in_failure_email" (SQLSTATE 54000)`))
	if status.Code(err) != codes.Unavailable || strings.Contains(err.Error(), "SQLSTATE") || strings.Contains(err.Error(), "sign_in_failure") {
		t.Errorf("to the client: %v", err)
	}
	if !strings.Contains(logged.String(), "SQLSTATE 54000") {
		t.Errorf("not logged for the operator: %q", logged.String())
	}
}

func TestFailuresOutOfTheWindowArePruned(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for range 3 {
		if _, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "a wrong guess", "192.0.2.1"); !isBadCredentials(err) {
			t.Fatal(err)
		}
	}
	f.clock.Advance(f.svc.Limits.Window + time.Second)
	if _, _, err := f.svc.SignIn(ctx, "paul@faunae.fr", "a wrong guess", "192.0.2.2"); !isBadCredentials(err) {
		t.Fatal(err)
	}
	if got := f.failures(t); got != 1 {
		t.Errorf("%d failures kept, want only the one in the window", got)
	}
}

func TestGuessingTheCurrentPasswordIsThrottledLikeASignIn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.account(t, "jeanne@faunae.fr", "the right passphrase")
	thief := a.Principal("ses-stolen") // a stolen access token
	for i := range f.svc.Limits.PerAccount {
		err := f.svc.SetPassword(ctx, thief, "", fmt.Sprintf("guess number %d", i), "the thief's passphrase", "203.0.113.9")
		if v := grpcserver.Violations(err); len(v) != 1 || v[0].Field != "current_password" {
			t.Fatalf("wrong guess %d: %v", i, err)
		}
	}
	var throttled ThrottledError
	if err := f.svc.SetPassword(ctx, thief, "", "the right passphrase", "the thief's passphrase", "203.0.113.9"); !errors.As(err, &throttled) {
		t.Fatalf("the right guess after %d wrong ones: %v", f.svc.Limits.PerAccount, err)
	}
	// One count for both ways of trying a password.
	if _, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the right passphrase", "192.0.2.1"); !errors.As(err, &throttled) {
		t.Fatalf("a sign-in after %d wrong current passwords: %v", f.svc.Limits.PerAccount, err)
	}
	f.clock.Advance(f.svc.Limits.Window + time.Second)
	if _, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the right passphrase", "192.0.2.1"); err != nil {
		t.Fatalf("the password changed: %v", err)
	}
	// Concurrent guesses stop at the limit too.
	o := race(t, 30, func(int) error {
		return f.svc.SetPassword(ctx, thief, "", "a wrong guess", "the thief's passphrase", "203.0.113.9")
	}, func(err error) bool {
		v := grpcserver.Violations(err)
		return len(v) == 1 && v[0].Field == "current_password"
	})
	if o.right != 0 || o.wrong > f.svc.Limits.PerAccount {
		t.Errorf("30 concurrent guesses of the current password: %d checked, %d throttled", o.wrong, o.throttled)
	}
}

func TestASessionOpenedBeforeAPasswordChangeCannotRefresh(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.account(t, "jeanne@faunae.fr", "the old passphrase")
	old, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the old passphrase", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// The session a revocation missed: committed just after it ran.
	f.clock.Advance(time.Second)
	if _, err := f.db.Exec(ctx, `UPDATE intake.account SET password_changed_at = $2 WHERE id = $1`, a.ID, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.svc.Refresh(ctx, old.Refresh); !errors.Is(err, ErrSession) {
		t.Fatalf("refreshing a session opened before the password change: %v", err)
	}
	fresh, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the old passphrase", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Refresh(ctx, fresh.Refresh); err != nil {
		t.Fatalf("a session opened after the change: %v", err)
	}
}

func TestASignInRacingAPasswordChangeWaitsForIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.account(t, "jeanne@faunae.fr", "the old passphrase")
	newHash, err := HashPassword("the new passphrase")
	if err != nil {
		t.Fatal(err)
	}
	// A password change holding the account's row, as SetPassword does.
	change, err := f.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer change.Rollback(ctx)
	if _, err := change.Exec(ctx, `SELECT 1 FROM intake.account WHERE id = $1 FOR UPDATE`, a.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the old passphrase", "192.0.2.1")
		done <- err
	}()
	for waited := time.Duration(0); waited < 2*time.Second; waited += 10 * time.Millisecond {
		var waiting int
		if err := f.db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := change.Exec(ctx, `UPDATE intake.account SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, a.ID, newHash, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := change.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !isBadCredentials(err) {
		t.Fatalf("a sign-in with the old password during its change: %v", err)
	}
}

func TestAReusedRefreshTokenEndsTheSessionForBoth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.account(t, "jeanne@faunae.fr", "the right passphrase")
	victim, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the right passphrase", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	stolen := victim.Refresh
	f.clock.Advance(time.Minute)
	thief, _, err := f.svc.Refresh(ctx, stolen)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if thief, _, err = f.svc.Refresh(ctx, thief.Refresh); err != nil { // the thief keeps the chain going
		t.Fatal(err)
	}
	if !f.accepts(victim.Access) || !f.accepts(thief.Access) {
		t.Fatal("access tokens refused before any reuse")
	}
	f.clock.Advance(time.Minute)
	if _, _, err := f.svc.Refresh(ctx, victim.Refresh); !errors.Is(err, ErrSession) {
		t.Fatalf("the victim's rotated-out token: %v", err)
	}
	if _, _, err := f.svc.Refresh(ctx, thief.Refresh); !errors.Is(err, ErrSession) {
		t.Fatalf("the thief's refresh token after the reuse: %v", err)
	}
	if f.accepts(thief.Access) || f.accepts(victim.Access) {
		t.Error("an access token of the session still accepted after the reuse")
	}
	if rv := f.events.revocations(); len(rv) != 1 || rv[0].SessionId == "" || rv[0].Subject != "" {
		t.Errorf("revocations published: %v", rv)
	}
	if again, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the right passphrase", "192.0.2.1"); err != nil || !f.accepts(again.Access) {
		t.Errorf("signing in again: %v", err)
	}
}

func TestSigningOutWithARotatedTokenEndsTheSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.account(t, "jeanne@faunae.fr", "the right passphrase")
	first, _, err := f.svc.SignIn(ctx, "jeanne@faunae.fr", "the right passphrase", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	next, _, err := f.svc.Refresh(ctx, first.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SignOut(ctx, first.Refresh); err != nil {
		t.Fatalf("signing out with the rotated-out token: %v", err)
	}
	if _, _, err := f.svc.Refresh(ctx, next.Refresh); !errors.Is(err, ErrSession) || f.accepts(next.Access) {
		t.Errorf("the session still works after the sign-out: %v", err)
	}
	if err := f.svc.SignOut(ctx, "sinpr1.never-issued"); !errors.Is(err, ErrSession) {
		t.Errorf("an unknown token: %v", err)
	}
}

// serve runs the AccountService behind the access rules a deployment uses.
func (f *fixture) serve(t *testing.T) string {
	t.Helper()
	v := auth.NewVerifier()
	v.AddKey(f.signer.Public())
	authn := &auth.Authenticator{Verifier: v, Rules: Access, Now: f.clock.Now}
	gs := grpcserver.New(slog.New(slog.DiscardHandler), authn.Authenticate)
	intakev1.RegisterAccountServiceServer(gs, &Server{Accounts: f.svc})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)
	return l.Addr().String()
}

func run(t *testing.T, c *cli.Command, env map[string]string, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	e := &cli.Env{Stdout: &out, Stderr: &out, Lookup: config.Map(env), Log: slog.New(slog.DiscardHandler)}
	err := c.Run(context.Background(), e, args)
	t.Logf("sinp %s %s: %s", c.Name, strings.Join(args, " "), out.String())
	return err
}

func TestLoginAgainAfterTheSavedTokenExpired(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.account(t, "jeanne@faunae.fr", "the right passphrase")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	env := map[string]string{"SINP_GRPC_ADDR": f.serve(t), "SINP_TOKEN_FILE": tokenFile, "SINP_PASSWORD": "the right passphrase"}

	if err := run(t, loginCommand(), env, "--email", "jeanne@faunae.fr"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour) // the saved access token has expired
	if err := run(t, loginCommand(), env, "--email", "jeanne@faunae.fr"); err != nil {
		t.Fatalf("login with an expired saved token: %v", err)
	}
	f.clock.Advance(time.Hour)
	if err := run(t, loginCommand(), env, "--refresh"); err != nil {
		t.Fatalf("login --refresh with an expired saved token: %v", err)
	}
	access, err := os.ReadFile(tokenFile)
	if err != nil || !f.accepts(strings.TrimSpace(string(access))) {
		t.Fatalf("the saved access token after a refresh is refused (%v)", err)
	}
	refresh, err := os.ReadFile(tokenFile + ".refresh")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(tokenFile + ".refresh"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("refresh token file: %v %v", fi.Mode(), err)
	}

	if err := run(t, logoutCommand(), env); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{tokenFile, tokenFile + ".refresh"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s kept after logout (%v)", filepath.Base(p), err)
		}
	}
	if _, _, err := f.svc.Refresh(ctx, strings.TrimSpace(string(refresh))); !errors.Is(err, ErrSession) {
		t.Errorf("the session is still open after logout: %v", err)
	}
	if f.accepts(strings.TrimSpace(string(access))) {
		t.Error("the access token is still accepted after logout")
	}
	if err := run(t, loginCommand(), env, "--refresh"); err == nil {
		t.Error("login --refresh after logout")
	}
}
