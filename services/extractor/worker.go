package extractor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/extractor/extraction"
)

// worker claims runs and executes them, at most cfg.Concurrency at once and
// only inside the extraction window.
type worker struct {
	cfg     Config
	db      *pgxpool.Pool
	clock   clock.Clock
	log     *slog.Logger
	emitter *outbox.Emitter
	runs    runs
	staging Staging
	window  Window
	pack    extraction.PackOptions
	// keyID names the secret F2 passwords derive from (empty: F2 not
	// encrypted).
	keyID string
	owner string
	// wake is signalled when a run is added (NOTIFY extractor_run).
	wake <-chan struct{}

	// Test hooks: called once the archives are written in the work
	// directory, and once they are staged, before the run is recorded.
	afterExtract func()
	afterStage   func()
}

func (w *worker) loop(ctx context.Context) error {
	slots := make(chan struct{}, w.cfg.Concurrency)
	var running sync.WaitGroup
	defer running.Wait()
	b := retry.Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	for {
		if open, wait := w.window.Open(w.clock.Now()); !open {
			w.log.Info("extraction window closed", "window", w.window.String(), "opens_in", wait)
			// Looked at again every minute: an operator may move the clock.
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			_ = clock.Sleep(wctx, w.clock, wait)
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		ru, err := w.runs.claim(ctx, w.owner, w.cfg.Lease, w.started)
		if err != nil || ru == nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			wait := time.Second // a notification wakes us earlier
			if err != nil {
				wait = b.Next()
				if b.Attempts() == 1 || b.Attempts()%10 == 0 {
					w.log.Warn("extractor: cannot claim runs; retrying", "err", err, "in", wait)
				}
			} else {
				b.Reset()
			}
			select {
			case <-ctx.Done():
				return nil
			case <-w.wake:
			case <-time.After(wait):
			}
			continue
		}
		b.Reset()
		running.Go(func() {
			defer func() { <-slots }()
			w.execute(ctx, ru)
		})
	}
}

func (w *worker) meta(ru *run) *eventsv1.Meta {
	return &eventsv1.Meta{RequestId: ru.Reference, CausationId: ru.CauseID}
}

func (w *worker) started(tx pgx.Tx, ru *run) error {
	_, err := w.emitter.Emit(context.Background(), tx, &eventsv1.ExtractionStarted{
		Meta: w.meta(ru), Reference: ru.Reference, RunId: ru.ID, Attempt: int32(ru.Attempts),
	})
	return err
}

// execute runs one attempt. The run's lease is renewed meanwhile; if it is
// lost (this worker was too slow and another took over) the attempt stops.
func (w *worker) execute(ctx context.Context, ru *run) {
	log := w.log.With("run", ru.ID, "attempt", ru.Attempts)
	log.Info("extraction started")
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		t := time.NewTicker(w.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				if err := w.runs.renew(rctx, ru, w.owner, w.cfg.Lease); err != nil {
					if rctx.Err() == nil {
						cancel(err)
					}
					return
				}
			}
		}
	}()
	err := w.attempt(rctx, ru, log)
	if err == nil || ctx.Err() != nil {
		return
	}
	if cause := context.Cause(rctx); errors.Is(cause, errLeaseLost) {
		log.Warn("extraction abandoned: another worker holds the run")
		return
	}
	final := ru.Attempts >= w.cfg.MaxAttempts || errors.Is(err, extraction.ErrBadRequest)
	retryIn := time.Duration(ru.Attempts*ru.Attempts) * 30 * time.Second
	log.Error("extraction failed", "err", err, "final", final)
	ferr := w.runs.fail(context.WithoutCancel(ctx), ru, w.owner, err, final, retryIn, func(tx pgx.Tx) error {
		_, err := w.emitter.Emit(ctx, tx, &eventsv1.ExtractionFailed{
			Meta: w.meta(ru), Reference: ru.Reference, RunId: ru.ID, Reason: err.Error(), Attempts: int32(ru.Attempts),
		})
		return err
	})
	if ferr != nil {
		log.Error("recording the failure", "err", ferr)
	}
}

func (w *worker) attempt(ctx context.Context, ru *run, log *slog.Logger) error {
	spec, err := extraction.SpecFromEvent(ru.Request)
	if err != nil {
		return fmt.Errorf("%w: %w", extraction.ErrBadRequest, err)
	}
	dir, err := w.staging.workDir(ru.ID)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	res, err := extraction.Extract(ctx, spec, dir, extraction.Options{
		DB: w.db, Pack: w.pack, ProgressEvery: w.cfg.ProgressEvery,
		Progress: func(read, estimated int64) {
			err := pg.InTx(ctx, w.db, func(tx pgx.Tx) error {
				_, err := w.emitter.Emit(ctx, tx, &eventsv1.ExtractionProgress{
					Meta: w.meta(ru), Reference: ru.Reference, RunId: ru.ID, RowsRead: read, RowsEstimated: estimated,
				})
				return err
			})
			if err != nil && ctx.Err() == nil {
				log.Warn("progress event", "err", err)
			}
		},
	})
	if err != nil {
		return err
	}
	if w.afterExtract != nil {
		w.afterExtract()
	}
	if err := w.staging.promote(spec.Reference, res); err != nil {
		return err
	}
	if w.afterStage != nil {
		w.afterStage()
	}
	var rows []archiveRow
	for _, d := range res.Deliverables {
		rows = append(rows, archiveRow{
			DeliverableID: d.ID, Kind: d.Key.File, Pole: d.Key.Pole, ArchiveName: d.ArchiveName,
			StagedPath: StagedPath(spec.Reference, d.ArchiveName), SHA256: d.SHA256, Bytes: d.Bytes, Rows: d.Rows, Encrypted: d.Encrypted,
		})
	}
	err = w.runs.complete(ctx, ru, w.owner, res.Selected, rows, func(tx pgx.Tx) error {
		// E, which the release timers count from: the deployment's time.
		e, err := clock.Reading(ctx, tx, w.clock)
		if err != nil {
			return err
		}
		for _, ev := range completionEvents(w.meta(ru), ru, spec, res, w.keyID, e) {
			if _, err := w.emitter.Emit(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	log.Info("extraction completed", "rows", res.Selected, "f1", res.F1, "f2", res.F2, "archives", len(res.Deliverables), "took", res.Elapsed)
	return nil
}

// completionEvents announce a completed run: one PartitionExtracted per
// CSV, one ArchiveStaged per archive, then ExtractionCompleted, whose time
// is E for the review timers.
func completionEvents(meta *eventsv1.Meta, ru *run, spec extraction.Spec, res *extraction.Result, keyID string, now time.Time) []bus.Event {
	var events []bus.Event
	done := &eventsv1.ExtractionCompleted{
		Meta: meta, Reference: ru.Reference, RunId: ru.ID, CompletedAt: timestamppb.New(now),
		SensitivePoles: res.SensitivePoles(), F2Entitled: spec.F2Entitled, Requester: ru.Request.GetRequester(),
		RowsSelected: res.Selected, RowsF1: res.F1, RowsF2: res.F2, RowsWithheld: res.Withheld, RowsWithheldF1: res.WithheldF1,
	}
	for _, d := range res.Deliverables {
		for _, p := range d.Partitions {
			part := &eventsv1.Partition{Key: p.Key.Message(), FileName: p.Name, Rows: p.Rows, Bytes: p.Bytes}
			events = append(events, &eventsv1.PartitionExtracted{Meta: meta, Reference: ru.Reference, RunId: ru.ID, Partition: part})
			done.Partitions = append(done.Partitions, part)
		}
	}
	for _, d := range res.Deliverables {
		del := &eventsv1.Deliverable{
			DeliverableId: d.ID, Kind: extraction.FileKind(d.Key.File), Pole: d.Key.Pole, ArchiveName: d.ArchiveName,
			StagedPath: StagedPath(spec.Reference, d.ArchiveName), Sha256: d.SHA256, Bytes: d.Bytes, Rows: d.Rows, Encrypted: d.Encrypted,
			Datasets: d.Datasets,
		}
		if d.Encrypted {
			del.KeyId = keyID
		}
		events = append(events, &eventsv1.ArchiveStaged{Meta: meta, Reference: ru.Reference, RunId: ru.ID, Deliverable: del})
		done.Deliverables = append(done.Deliverables, del)
	}
	return append(events, done)
}
