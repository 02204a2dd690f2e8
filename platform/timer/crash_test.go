package timer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
)

// Two replicas fire 10,000 timers while the deployment's manual clock is
// advanced step by step; one replica is SIGKILLed in the middle of a batch
// and started again. Every timer fires exactly once, never before its due
// instant by the deployment's clock (read from platform.clock in the
// firing transaction). Then, with no replica running, the clock passes
// 1,000 more timers' instants: the first replica started fires them at
// once.
func TestTimersFireOnceAcrossReplicasAndAKill(t *testing.T) {
	if os.Getenv("TIMER_REPLICA") != "" {
		t.Skip("replica process only")
	}
	ctx := context.Background()
	db := newDB(t)
	url := pgURL(t, db)
	spec, _ := clock.ParseSpec("manual:2026-03-01T08:00:00Z")
	c, err := clock.Open(ctx, db, spec, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	timers := make([]Timer, n)
	for i := range timers {
		// Spread over ten hours of clock time, 3.6 s apart.
		timers[i] = Timer{Key: fmt.Sprintf("t%05d", i), Kind: "record", Due: t0.Add(time.Duration(i) * 3600 * time.Millisecond)}
	}
	schedule(t, db, timers...)

	victim := startReplica(t, url, "a", 3000)
	survivor := startReplica(t, url, "b", 0)
	killed := make(chan error, 1)
	go func() { killed <- victim.Wait() }()
	for step := 0; step < 30; step++ {
		if _, err := c.Advance(ctx, 20*time.Minute, "test"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatal("replica a was not killed after firing 3000 timers")
	}
	if st, ok := victim.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("replica a ended with %v, not SIGKILL", victim.ProcessState)
	}
	restarted := startReplica(t, url, "a2", 0)
	waitFor(t, "every timer fired", func() bool {
		var left int
		_ = db.QueryRow(ctx, `SELECT count(*) FROM svc.timer`).Scan(&left)
		return left == 0
	})
	checkFired(t, db, n)

	// Downtime: no replica runs while 1,000 more timers fall due.
	stop(t, survivor)
	stop(t, restarted)
	now := c.Now()
	more := make([]Timer, 1000)
	for i := range more {
		more[i] = Timer{Key: fmt.Sprintf("late%04d", i), Kind: "record", Due: now.Add(time.Duration(i) * time.Second)}
	}
	schedule(t, db, more...)
	if _, err := c.Advance(ctx, 2*time.Hour, "test"); err != nil {
		t.Fatal(err)
	}
	startReplica(t, url, "after-downtime", 0)
	waitFor(t, "overdue timers fired after the restart", func() bool {
		var left int
		_ = db.QueryRow(ctx, `SELECT count(*) FROM svc.timer`).Scan(&left)
		return left == 0
	})
	checkFired(t, db, n+1000)
}

func checkFired(t *testing.T, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, want int) {
	t.Helper()
	var rows, keys, early, earlyByDeployment int
	if err := db.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT key),
			count(*) FILTER (WHERE fired_at < due_at), count(*) FILTER (WHERE deployment_now < due_at)
		FROM svc.fired`).Scan(&rows, &keys, &early, &earlyByDeployment); err != nil {
		t.Fatal(err)
	}
	if rows != want || keys != want || early != 0 || earlyByDeployment != 0 {
		t.Fatalf("%d firings of %d timers (want %d each); %d before their instant by the replica's clock, %d by the deployment's",
			rows, keys, want, early, earlyByDeployment)
	}
}

func pgURL(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	cfg := db.Config().ConnConfig
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

func signalNotify(c chan os.Signal) { signal.Notify(c, syscall.SIGTERM, os.Interrupt) }

func startReplica(t *testing.T, url, name string, killAfter int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTimerReplica$")
	cmd.Env = append(os.Environ(), "TIMER_REPLICA="+name, "TIMER_DB="+url, "TIMER_KILL_AFTER="+strconv.Itoa(killAfter))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func stop(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("replica did not stop on SIGTERM")
	}
}

// TestTimerReplica is one replica process of the test above.
func TestTimerReplica(t *testing.T) {
	name := os.Getenv("TIMER_REPLICA")
	if name == "" {
		t.Skip("run by TestTimersFireOnceAcrossReplicasAndAKill")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		sig := make(chan os.Signal, 1)
		signalNotify(sig)
		<-sig
		cancel()
	}()
	db, err := pg.Connect(ctx, os.Getenv("TIMER_DB"), 4)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clock.Open(ctx, db, clock.Spec{}, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := pg.NewListener(db.Config().ConnConfig, nil)
	clockWake, timerWake := l.Subscribe(clock.Channel), l.Subscribe(Channel("svc"))
	go l.Run(ctx)
	go c.Run(ctx, clockWake)
	killAfter, _ := strconv.Atoi(os.Getenv("TIMER_KILL_AFTER"))
	var total atomic.Int64
	s := &Scanner{Pool: db, Schema: "svc", Clock: c, Notified: timerWake, Batch: 50,
		Handlers: map[string]Handler{"record": func(ctx context.Context, tx pgx.Tx, f Firing) error {
			_, err := tx.Exec(ctx, `INSERT INTO svc.fired (key, due_at, fired_at, deployment_now, replica)
				SELECT $1, $2, $3, base, $4 FROM platform.clock`, f.Key, f.Due, f.Now, name)
			return err
		}},
		beforeCommit: func(n int) {
			if killAfter > 0 && total.Add(int64(n)) >= int64(killAfter) {
				// In the middle of a scan: the batch is fired but not committed.
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}}
	_ = s.Run(ctx)
}
