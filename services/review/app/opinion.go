package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/timer"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

// Opinion is a reviewer's opinion on one pôle's F2 of a request.
type Opinion struct {
	Reference      string
	Pole           string
	Verdict        rule.Verdict
	Justification  string
	Reviewer       string
	IdempotencyKey string
}

// RecordOpinion records an opinion given now, if the rule accepts it (the
// F2 is under review and not settled; an unfavorable opinion is
// justified), announces it with what will happen next, and moves the
// release timer. A call repeating an earlier one's idempotency key returns
// that one's result and records nothing (replayed).
func (s *Service) RecordOpinion(ctx context.Context, cmd Opinion) (r *store.Review, out rule.Outcome, replayed bool, err error) {
	cmd.Justification = strings.TrimSpace(cmd.Justification)
	err = pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		// The release timer first, as the scanner takes it before the
		// review: an opinion and a firing are then ordered, never
		// deadlocked, and the clock is read once both are held.
		if err := timer.Lock(ctx, tx, Schema, timerKey(cmd.Reference)); err != nil {
			return err
		}
		r, err = store.Lock(ctx, tx, cmd.Reference)
		if err != nil {
			return err
		}
		now, err := s.decidingNow(ctx, tx)
		if err != nil {
			return err
		}
		// Never before an instant something was already settled at: a
		// process whose clock lags another's cannot slip an opinion in
		// behind a release.
		for _, d := range r.Deliverables {
			if d.FiredAt.After(now) {
				now = d.FiredAt
			}
		}
		// Nor before an opinion already given: the rule reads opinions in
		// the order of their instants, which must be the order they were
		// given in (a correction dated before what it corrects would be
		// overruled by it).
		for _, o := range r.Opinions {
			if o.At.After(now) {
				now = o.At
			}
		}
		if cmd.IdempotencyKey != "" {
			ref, earlier, err := store.OpinionByKey(ctx, tx, cmd.Reviewer, cmd.IdempotencyKey)
			switch {
			case err == nil && ref == cmd.Reference && earlier.Pole == cmd.Pole && earlier.Verdict == cmd.Verdict && earlier.Justification == cmd.Justification:
				replayed = true
				out = rule.Decide(r.Policy, r.Facts(), now)
				return nil
			case err == nil:
				return ErrKeyReused
			case err != store.ErrNotFound:
				return err
			}
		}
		o := store.Opinion{Opinion: rule.Opinion{Pole: cmd.Pole, Verdict: cmd.Verdict, At: now, Author: cmd.Reviewer,
			Justification: cmd.Justification}, IdempotencyKey: cmd.IdempotencyKey}
		if d, ok := r.Deliverable("F2", cmd.Pole); ok && d.State != rule.Pending {
			return fmt.Errorf("%w: F2 of pôle %q %s at %s", rule.ErrSettled, cmd.Pole, d.State, d.SettledAt.Format(time.RFC3339Nano))
		}
		if err := r.Policy.Accept(r.Facts(), o.Opinion); err != nil {
			return err
		}
		if err := store.AddOpinion(ctx, tx, cmd.Reference, o); err != nil {
			return err
		}
		r.Opinions = append(r.Opinions, o)
		if out, err = s.settle(ctx, tx, r, now); err != nil {
			return err
		}
		d, _ := r.Deliverable("F2", cmd.Pole)
		dec, _ := out.Pole(cmd.Pole)
		ev := &eventsv1.OpinionRecorded{Meta: &eventsv1.Meta{RequestId: r.Reference}, Reference: r.Reference,
			DeliverableId: d.ID, Pole: cmd.Pole, Opinion: VerdictProto(cmd.Verdict), Justification: cmd.Justification,
			Reviewer: cmd.Reviewer, DueAt: timestamppb.New(dec.Due), WillRule: RuleProto(dec.WillRule)}
		if !dec.Favorable.IsZero() {
			ev.FavorableSince = timestamppb.New(dec.Favorable)
		}
		_, err = s.Emitter.Emit(ctx, tx, ev)
		return err
	})
	return r, out, replayed, err
}

// VerdictProto is a verdict as the contracts spell it.
func VerdictProto(v rule.Verdict) eventsv1.Opinion {
	switch v {
	case rule.Favorable:
		return eventsv1.Opinion_OPINION_FAVORABLE
	case rule.Unfavorable:
		return eventsv1.Opinion_OPINION_UNFAVORABLE
	}
	return eventsv1.Opinion_OPINION_UNSPECIFIED
}
