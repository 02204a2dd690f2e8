package service

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	sinpbus "sinp.occitanie.fr/platform/bus"
)

// health keeps gRPC health and /healthz true: NOT_SERVING while the
// database or the bus is lost, SERVING again once both answer.
type health struct {
	p     *Process
	names []string

	mu      sync.Mutex
	checked bool
	db, bus bool
	// held: tokens are refused until the revocations are read.
	held bool
}

// healthNames are the names health answers for: the whole process (""),
// each service and each of its gRPC services.
func healthNames(defs []Definition) []string {
	names := []string{""}
	for _, d := range defs {
		names = append(append(names, d.Name), d.GRPCServices...)
	}
	return names
}

func (h *health) run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			h.update(ctx)
		}
	}
}

// update checks both and sets every status.
func (h *health) update(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	db := h.p.DB.Ping(cctx) == nil
	cancel()
	bus := h.p.NC.IsConnected()
	if bus {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := h.p.JS.AccountInfo(cctx)
		if err == nil {
			// A bus that lost its store (a new server, a wiped volume) gets
			// its streams again.
			if _, serr := h.p.JS.Stream(cctx, sinpbus.StreamEvents); errors.Is(serr, jetstream.ErrStreamNotFound) {
				h.p.Log.Error("health: the bus has lost the platform's streams; creating them again")
				err = sinpbus.EnsureStreams(cctx, h.p.JS, h.p.Config.NATS)
			}
		}
		cancel()
		bus = err == nil
	}
	if ctx.Err() != nil {
		return
	}
	held := h.p.Auth != nil && h.p.Auth.Verifier.Held()
	h.mu.Lock()
	changed := !h.checked || db != h.db || bus != h.bus || held != h.held
	wasDB, wasBus, wasHeld, first := h.db, h.bus, h.held, !h.checked
	h.checked, h.db, h.bus, h.held = true, db, bus, held
	h.mu.Unlock()
	if !changed {
		return
	}
	h.p.GRPC.SetServing(db && bus && !held, h.names...)
	log := h.p.Log
	switch {
	case held && (first || !wasHeld):
		log.Warn("health: the published revocations are not all read; NOT_SERVING (tokens refused) until they are")
	case !held && !first && wasHeld:
		log.Info("health: the revocations are read")
	}
	switch {
	case !db && (first || wasDB):
		log.Error("health: the database is unreachable; NOT_SERVING until it is back")
	case db && !first && !wasDB:
		log.Info("health: the database is back")
	}
	switch {
	case !bus && (first || wasBus):
		log.Error("health: the bus (NATS JetStream) is unreachable; NOT_SERVING until it is back")
	case bus && !first && !wasBus:
		log.Info("health: the bus is back")
	}
	if db && bus && !held && !first {
		log.Info("health: SERVING")
	}
}

// ServeHTTP answers /healthz: 200 "ok", or 503 saying what is lost.
func (h *health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	db, bus, checked, held := h.db, h.bus, h.checked, h.held
	h.mu.Unlock()
	var lost []string
	if !checked {
		lost = append(lost, "starting")
	}
	if checked && !db {
		lost = append(lost, "database unreachable")
	}
	if checked && !bus {
		lost = append(lost, "bus unreachable")
	}
	if checked && held {
		lost = append(lost, "revocations not read yet (tokens refused)")
	}
	if len(lost) > 0 {
		http.Error(w, "not serving: "+strings.Join(lost, ", "), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
