package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/service"
)

// `sinp up` with every service: each answers SERVING on grpc_health_v1,
// /healthz answers, the manual clock moves through `sinp clock advance`,
// and the process stops cleanly when asked.
func TestUpServesHealthForEveryService(t *testing.T) {
	env := map[string]string{
		"SINP_DATABASE_URL":       pgtest.NewDBURL(t),
		"SINP_DATA_DIR":           t.TempDir(),
		"SINP_NATS_EMBEDDED_PORT": "-1",
		"SINP_GRPC_ADDR":          "127.0.0.1:0",
		"SINP_HTTP_ADDR":          "127.0.0.1:0",
		"SINP_CLOCK":              "manual:2026-03-01T08:00:00Z",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan service.Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Up(ctx, config.Map(env), definitions(), slog.New(slog.DiscardHandler), service.Options{
			Ready: func(_ *service.Process, a service.Addrs) { ready <- a },
		})
	}()
	var addrs service.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("up stopped: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("not ready after 2 minutes")
	}

	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	for _, d := range definitions() {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: d.Name})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("%s: %v %v", d.Name, resp, err)
		}
	}
	resp, err := http.Get("http://" + addrs.HTTP + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	var out bytes.Buffer
	e := &cli.Env{Stdout: &out, Stderr: io.Discard, Lookup: config.Map(map[string]string{"SINP_DATA_DIR": env["SINP_DATA_DIR"]})}
	if err := cli.Dispatch(ctx, e, "sinp", commands(), []string{"clock", "advance", "36h", "--addr", addrs.GRPC}); err != nil {
		t.Fatal(err)
	}
	var reading clockReading
	if err := json.Unmarshal(out.Bytes(), &reading); err != nil || !reading.Now.Equal(time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)) {
		t.Fatalf("clock after advancing 36h: %q (%v)", out.String(), err)
	}

	checkDeadLettersThroughTheCLI(t, ctx, e, &out, addrs)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up returned %v on shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("up did not stop within 30s")
	}
}

func TestUnknownServiceIsNamed(t *testing.T) {
	_, err := selectServices("intake,extracter")
	if err == nil || !strings.Contains(err.Error(), `"extracter"`) {
		t.Fatalf("err = %v", err)
	}
}

// The sinp binary stops cleanly (exit 0) on SIGTERM, as an orchestrator
// stops it, after serving metrics.
func TestUpStopsGracefullyOnSIGTERM(t *testing.T) {
	if os.Getenv("SINP_UP_CHILD") != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := realMain(ctx, []string{"up"}); err != nil {
			fmt.Fprintln(os.Stderr, "up:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	child := exec.Command(os.Args[0], "-test.run=^TestUpStopsGracefullyOnSIGTERM$")
	child.Env = append(os.Environ(), "SINP_UP_CHILD=1",
		"SINP_DATABASE_URL="+pgtest.NewDBURL(t), "SINP_DATA_DIR="+t.TempDir(), "SINP_NATS_EMBEDDED_PORT=-1",
		"SINP_GRPC_ADDR="+grpcAddr, "SINP_HTTP_ADDR="+httpAddr, "SINP_LOG_FORMAT=json")
	var logs bytes.Buffer
	child.Stdout, child.Stderr = &logs, &logs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(b, []byte("sinp_outbox_published_total")) {
				t.Fatalf("/metrics (%s) does not expose the outbox counter:\n%.2000s\n%s", resp.Status, b, logs.String())
			}
			break
		}
		if time.Now().After(deadline) {
			_ = child.Process.Kill()
			t.Fatalf("never served /metrics:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = child.Process.Kill()
		t.Fatalf("still running 30s after SIGTERM:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "sinp stopped") {
		t.Fatalf("no clean stop in the logs:\n%s", logs.String())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// An event the extractor cannot read goes to the dead letters, where an
// operator lists it, reads it and replays it; without an operator's token
// the commands are refused.
func checkDeadLettersThroughTheCLI(t *testing.T, ctx context.Context, e *cli.Env, out *bytes.Buffer, addrs service.Addrs) {
	t.Helper()
	nc, err := nats.Connect(addrs.NATS)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	m := nats.NewMsg(bus.SubjectRequestInstructed)
	m.Data = []byte("not a protobuf \xff\xff")
	m.Header.Set(jetstream.MsgIDHeader, "garbage-1")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	list := func() []deadLetter {
		out.Reset()
		if err := cli.Dispatch(ctx, e, "sinp", commands(), []string{"dlq", "list", "--addr", addrs.GRPC, "--json"}); err != nil {
			t.Fatal(err)
		}
		var got []deadLetter
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("dlq list: %q: %v", out.String(), err)
		}
		return got
	}
	var letters []deadLetter
	deadline := time.Now().Add(30 * time.Second)
	for letters = list(); len(letters) == 0; letters = list() {
		if time.Now().After(deadline) {
			t.Fatal("the unreadable event never reached the dead letters")
		}
		time.Sleep(100 * time.Millisecond)
	}
	first := letters[0]
	if first.Consumer != "extractor-requests" || first.OriginalSubject != bus.SubjectRequestInstructed || first.Error == "" {
		t.Fatalf("dead letter %+v", first)
	}
	out.Reset()
	seq := strconv.FormatUint(first.Sequence, 10)
	if err := cli.Dispatch(ctx, e, "sinp", commands(), []string{"dlq", "show", seq, "--addr", addrs.GRPC, "--json"}); err != nil || !strings.Contains(out.String(), "extractor-requests") {
		t.Fatalf("dlq show: %q %v", out.String(), err)
	}
	out.Reset()
	if err := cli.Dispatch(ctx, e, "sinp", commands(), []string{"dlq", "replay", seq, "--addr", addrs.GRPC, "--json"}); err != nil {
		t.Fatalf("dlq replay: %v", err)
	}
	// Still unreadable: it comes back once, as a new dead letter.
	deadline = time.Now().Add(30 * time.Second)
	for letters = list(); len(letters) != 1 || letters[0].Sequence == first.Sequence; letters = list() {
		if time.Now().After(deadline) {
			t.Fatalf("after the replay the dead letters are %+v", letters)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// No key, no token: refused before calling; a requester's token: refused by the server.
	stranger := &cli.Env{Stdout: out, Stderr: io.Discard, Lookup: config.Map(map[string]string{"SINP_DATA_DIR": t.TempDir()})}
	if err := cli.Dispatch(ctx, stranger, "sinp", commands(), []string{"dlq", "list", "--addr", addrs.GRPC}); err == nil || !strings.Contains(err.Error(), "needs an operator") {
		t.Fatalf("dlq list without a key or token: %v", err)
	}
	tok := issueToken(t, ctx, e, "requester")
	requester := &cli.Env{Stdout: out, Stderr: io.Discard, Lookup: config.Map(map[string]string{"SINP_TOKEN": tok})}
	if err := cli.Dispatch(ctx, requester, "sinp", commands(), []string{"dlq", "replay", seq, "--addr", addrs.GRPC}); status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Fatalf("dlq replay by a requester: %v", err)
	}
}

func issueToken(t *testing.T, ctx context.Context, e *cli.Env, kind string) string {
	t.Helper()
	var out bytes.Buffer
	e2 := &cli.Env{Stdout: &out, Stderr: io.Discard, Lookup: e.Lookup}
	if err := cli.Dispatch(ctx, e2, "sinp", commands(), []string{"token", "issue", "--kind", kind, "--subject", "acc-9", "--json"}); err != nil {
		t.Fatal(err)
	}
	var got struct{ Token string }
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Token == "" {
		t.Fatalf("token issue: %q %v", out.String(), err)
	}
	return got.Token
}
