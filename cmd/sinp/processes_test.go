package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pgtest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sinp runs the sinp binary (this test binary acting as it) with args.
func sinpCmd(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "SINP_TEST_AS_SINP=1"), env...)
	return cmd
}

func run(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := sinpCmd(env, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		t.Logf("sinp %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

// Each service in its own process, against one PostgreSQL and one NATS:
// the first process starts the deployment's NATS server in a process of
// its own and the second joins it; each applies its own migrations only
// (never the observation store's); `sinp health` checks what a process
// runs; and stopping the first leaves the second its bus.
func TestServicesRunInSeparateProcesses(t *testing.T) {
	db := pgtest.NewDBURL(t)
	dir := t.TempDir()
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	env := []string{"SINP_DATABASE_URL=" + db, "SINP_DATA_DIR=" + dir, "SINP_NATS_EMBEDDED_PORT=" + port,
		"SINP_CLOCK=manual:2026-03-01T08:00:00Z", "SINP_NATS_URL="}
	t.Cleanup(func() { _, _ = run(t, env, "nats", "stop") })
	startUp := func(service string) (*exec.Cmd, string, *syncBuffer) {
		addr := freeAddr(t)
		logs := &syncBuffer{}
		cmd := sinpCmd(append(env, "SINP_GRPC_ADDR="+addr, "SINP_HTTP_ADDR="+freeAddr(t)), "up", "--services", service)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
			if t.Failed() {
				t.Logf("%s logs:\n%s", service, logs.String())
			}
		})
		if _, err := run(t, env, "health", "--addr", addr, "--wait", "60s"); err != nil {
			t.Fatalf("%s never served:\n%s", service, logs.String())
		}
		return cmd, addr, logs
	}
	intake, intakeAddr, intakeLogs := startUp("intake")
	_, reviewAddr, reviewLogs := startUp("review")
	if !strings.Contains(intakeLogs.String(), "in a process of its own") || !strings.Contains(reviewLogs.String(), "joining the NATS server already running") {
		t.Fatalf("the bus was not shared:\nintake: %s\nreview: %s", intakeLogs.String(), reviewLogs.String())
	}

	out, err := run(t, env, "health", "--addr", intakeAddr, "--json")
	var report []serviceHealth
	if err != nil || json.Unmarshal([]byte(out), &report) != nil || len(report) != 1 || report[0] != (serviceHealth{"intake", "SERVING"}) {
		t.Fatalf("health of the intake process: %s (%v)", out, err)
	}
	if out, err := run(t, env, "health", "--addr", intakeAddr, "--services", "review", "--json"); err == nil || !strings.Contains(out, "NOT_RUN_HERE") {
		t.Fatalf("health asked for review of the intake process: %s (%v)", out, err)
	}

	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schemas := map[string]bool{}
	rows, _ := conn.Query(context.Background(), `SELECT nspname FROM pg_namespace`)
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		schemas[n] = true
	}
	if !schemas["intake"] || !schemas["review"] || !schemas["platform"] || schemas["extractor"] || schemas["oc_dat"] || schemas["delivery"] {
		t.Fatalf("schemas after starting intake and review: %v", names)
	}

	// The process that started the bus stops; the other keeps it.
	_ = intake.Process.Signal(syscall.SIGTERM)
	if err := intake.Wait(); err != nil {
		t.Fatalf("intake exit: %v", err)
	}
	for range 6 {
		time.Sleep(500 * time.Millisecond)
		if _, err := run(t, env, "health", "--addr", reviewAddr); err != nil {
			t.Fatalf("review lost its bus when intake stopped:\n%s", reviewLogs.String())
		}
	}

	// sinp migrate says what it touched.
	out, err = run(t, env, "migrate", "--services", "extractor", "--json")
	if err != nil || !strings.Contains(out, `"schema":"extractor"`) || strings.Contains(out, "oc_dat") || strings.Contains(out, `"schema":"intake"`) {
		t.Fatalf("migrate --services extractor: %s (%v)", out, err)
	}
}
