// Package retry holds the runtime's one way of waiting between attempts
// (capped exponential backoff with jitter) and its one answer to "would
// trying again help?": infrastructure errors (database or bus unreachable,
// timeouts, a server shutting down) are transient; a handler's own errors
// are not.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Backoff is a capped exponential backoff with full jitter. The zero value
// waits between 100ms and 10s.
type Backoff struct {
	Min, Max time.Duration
	attempt  int
}

// Next returns how long to wait before the next attempt and counts it.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi <= 0 {
		hi = 10 * time.Second
	}
	d := lo << min(b.attempt, 30)
	if d > hi || d <= 0 {
		d = hi
	}
	b.attempt++
	// Half fixed, half random: replicas that failed together spread out,
	// and no wait is ever shorter than half the nominal one.
	return d/2 + rand.N(d/2+1)
}

// Reset starts again from the shortest wait, after a success.
func (b *Backoff) Reset() { b.attempt = 0 }

// Attempts is how many waits were handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Sleep waits Next(), or less if ctx ends; it returns ctx.Err() then.
func (b *Backoff) Sleep(ctx context.Context) error {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Transient reports whether err comes from the infrastructure (PostgreSQL
// or NATS unreachable, restarting or timing out) rather than from the
// work itself: trying again later, unchanged, can succeed.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return transientSQLState(pgErr.Code)
	}
	if pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	if errors.As(err, new(unavailable)) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		// A bare errno has net.Error's methods too: it is a file's error
		// (a network one comes wrapped in *net.OpError).
		if errno, bare := netErr.(syscall.Errno); bare {
			return hostTrouble(errno)
		}
		return true
	}
	for _, target := range []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED,
		nats.ErrConnectionClosed, nats.ErrConnectionReconnecting, nats.ErrTimeout, nats.ErrNoResponders,
		nats.ErrDisconnected, nats.ErrNoServers, nats.ErrStaleConnection,
		jetstream.ErrNoHeartbeat, jetstream.ErrJetStreamNotEnabled, jetstream.ErrServerShutdown, jetstream.ErrNoStreamResponse,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503: JetStream (or the stream's leader) is not available right now.
		return apiErr.Code == 503
	}
	// pgx reports a connection lost mid-query in words only.
	msg := err.Error()
	for _, s := range []string{"no response from stream", "conn closed", "connection reset", "broken pipe", "unexpected EOF", "failed to connect", "closed pool", "connection refused"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Unavailable marks err as the infrastructure's, for code that knows it is
// (a volume that is not mounted, say): Transient reports it so.
func Unavailable(err error) error { return unavailable{err} }

type unavailable struct{ err error }

func (u unavailable) Error() string { return u.err.Error() }
func (u unavailable) Unwrap() error { return u.err }

// hostTrouble tells a host's trouble with its files (out of space or
// quota, read-only, failing, out of descriptors or memory, interrupted),
// which waiting can cure, from a file's own: missing, refused, of the wrong
// kind, which counts against the work (an event is dead-lettered rather
// than waited on for ever).
func hostTrouble(errno syscall.Errno) bool {
	switch errno {
	case syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO, syscall.ENOMEM, syscall.ESTALE, syscall.ENOBUFS,
		// A network file system or device gone (FUSE, CIFS, a disk).
		syscall.ENOTCONN, syscall.EHOSTDOWN, syscall.EREMOTEIO, syscall.ENOLCK, syscall.EBUSY, syscall.ENODEV, syscall.ENXIO,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:
		return true
	}
	return errno.Temporary() || errno.Timeout()
}

// transientSQLState: connection exceptions (08), the server shutting down
// or restarting (57P0x), a cancelled statement (57014: a timeout, a
// shutdown), insufficient resources (53: disk full, out of memory, too
// many connections), system errors (58: I/O), a database that is read-only
// (25006: a standby during a failover), and the concurrency conflicts a
// retry resolves (40001 serialization, 40P01 deadlock, 55P03 lock).
func transientSQLState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P0"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "58"):
		return true
	case code == "57014", code == "25006", code == "40001", code == "40P01", code == "55P03":
		return true
	}
	return false
}
