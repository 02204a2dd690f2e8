package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
)

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for i, nominal := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		nominal *= time.Millisecond
		d := b.Next()
		if d < nominal/2 || d > nominal {
			t.Fatalf("attempt %d: waited %v, want within [%v, %v]", i, d, nominal/2, nominal)
		}
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after Reset waited %v", d)
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := Backoff{Min: time.Hour, Max: time.Hour}
	if err := b.Sleep(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v", err)
	}
}

func TestTransientTellsInfrastructureFromWork(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "40001"}, true},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "53300"}), true},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key"}, false},
		{&pgconn.PgError{Code: "42P01", Message: "relation does not exist"}, false},
		{context.DeadlineExceeded, true},
		{nats.ErrConnectionClosed, true},
		{nats.ErrNoResponders, true},
		{io.ErrUnexpectedEOF, true},
		{errors.New("failed to connect to `host=127.0.0.1`: dial error"), true},
		{errors.New("request R-1: unknown pôle"), false},
		// A file's own error counts; the host's trouble with its disks waits.
		{&fs.PathError{Op: "openat", Path: "R-1/R-1_F1.7z", Err: syscall.ENOENT}, false},
		{&fs.PathError{Op: "removeat", Path: "R-1/R-1_F1.7z", Err: syscall.EPERM}, false},
		{&fs.PathError{Op: "open", Path: "R-1", Err: syscall.EACCES}, false},
		{&fs.PathError{Op: "write", Path: "R-1/R-1_F1.7z", Err: syscall.ENOSPC}, true},
		{&fs.PathError{Op: "read", Path: "R-1/R-1_F1.7z", Err: syscall.EIO}, true},
		{&fs.PathError{Op: "open", Path: "R-1", Err: syscall.EMFILE}, true},
		{&fs.PathError{Op: "openat", Path: "R-1/R-1_F1.7z", Err: syscall.ENOTCONN}, true}, // a FUSE mount gone
		{&fs.PathError{Op: "openat", Path: "R-1/R-1_F1.7z", Err: syscall.EHOSTDOWN}, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{Unavailable(&fs.PathError{Op: "open", Path: "/srv/staging", Err: syscall.ENOENT}), true},
		{nil, false},
	} {
		if got := Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
