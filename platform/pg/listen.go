package pg

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/retry"
)

// Listener holds one connection of its own that LISTENs on every channel
// a subscriber names, and wakes the subscribers. Wake-ups are coalesced: a
// burst of notifications while a subscriber is busy leaves it one signal,
// not one per notification. After every (re)connection each subscriber is
// woken once, since notifications sent while the connection was down are
// lost. A database restart never stops it: it reconnects with backoff.
type Listener struct {
	cfg *pgx.ConnConfig
	log *slog.Logger

	mu      sync.Mutex
	subs    map[string][]chan struct{}
	changed chan struct{} // a channel was added: LISTEN to it
	up      atomic.Bool
}

// NewListener returns a listener connecting with cfg (a pool's
// ConnConfig); Run starts it.
func NewListener(cfg *pgx.ConnConfig, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{cfg: cfg.Copy(), log: log, subs: map[string][]chan struct{}{}, changed: make(chan struct{}, 1)}
}

// Subscribe returns a channel signalled after each notification on
// channel (coalesced) and after each reconnection. It may be called before
// or while Run runs.
func (l *Listener) Subscribe(channel string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs[channel] = append(l.subs[channel], ch)
	l.mu.Unlock()
	wake(l.changed)
	return ch
}

// Connected reports whether the listening connection is up.
func (l *Listener) Connected() bool { return l.up.Load() }

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (l *Listener) channels() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.subs))
	for c := range l.subs {
		out = append(out, c)
	}
	return out
}

func (l *Listener) notify(channel string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ch := range l.subs[channel] {
		wake(ch)
	}
}

func (l *Listener) notifyAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, subs := range l.subs {
		for _, ch := range subs {
			wake(ch)
		}
	}
}

// Run listens until ctx ends. It returns nil then; it never gives up on
// a lost database.
func (l *Listener) Run(ctx context.Context) error {
	b := retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for ctx.Err() == nil {
		err := l.session(ctx, &b)
		l.up.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		d := b.Next()
		l.log.Warn("database listener lost its connection; reconnecting", "err", err, "in", d)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
	return nil
}

// session runs one connection's life.
func (l *Listener) session(ctx context.Context, b *retry.Backoff) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, l.cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	listening := map[string]bool{}
	listen := func() error {
		for _, c := range l.channels() {
			if listening[c] {
				continue
			}
			if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{c}.Sanitize()); err != nil {
				return err
			}
			listening[c] = true
			l.notify(c) // what it missed before we listened
		}
		return nil
	}
	if err := listen(); err != nil {
		return err
	}
	l.up.Store(true)
	b.Reset()
	l.notifyAll() // whatever was sent while we were away
	for {
		wctx, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-l.changed:
				stop()
			case <-wctx.Done():
			}
		}()
		n, err := conn.WaitForNotification(wctx)
		interrupted := wctx.Err() != nil
		stop()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			l.notify(n.Channel)
		case interrupted && !conn.IsClosed():
			// A new channel to listen to.
			if err := listen(); err != nil {
				return err
			}
		default:
			if err == nil {
				err = errors.New("connection closed")
			}
			return err
		}
	}
}
