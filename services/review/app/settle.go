package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/timer"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

// Fire is the release timer's handler: it settles what is due, in the
// timer's transaction, and sets the timer again for what comes next.
func (s *Service) Fire(ctx context.Context, tx pgx.Tx, f timer.Firing) error {
	reference := string(f.Payload)
	r, err := store.Lock(ctx, tx, reference)
	if err == store.ErrNotFound {
		s.Log.Warn("review: a release timer for a request not under review", "reference", reference)
		return nil
	}
	if err != nil {
		return err
	}
	// The scanner's reading, bounded by the deployment's clock: an opinion
	// recorded later than it is ignored, and cannot change what was due.
	now := f.Now.Truncate(time.Microsecond)
	if _, err := s.settle(ctx, tx, r, now); err != nil {
		return err
	}
	if s.BeforeSettleCommit != nil {
		s.BeforeSettleCommit(reference)
	}
	return nil
}

// settle applies the rule at now to a locked review: each deliverable the
// rule has settled and the store has not is recorded, with its
// ReleaseGranted or ReleaseWithheld, and the timer is set to the next
// instant anything can change (or removed when all is settled).
func (s *Service) settle(ctx context.Context, tx pgx.Tx, r *store.Review, now time.Time) (rule.Outcome, error) {
	out := rule.Decide(r.Policy, r.Facts(), now)
	for i := range r.Deliverables {
		d := &r.Deliverables[i]
		dec := decision(out, d)
		if d.State != rule.Pending {
			if dec.State != d.State {
				s.Log.Error("review: the rule disagrees with a settled deliverable; the record stands",
					"deliverable", d.ID, "recorded", d.State, "rule", dec.State)
			}
			continue
		}
		if dec.State == rule.Pending {
			continue
		}
		d.State, d.Rule, d.SettledAt, d.FiredAt, d.Justification = dec.State, dec.Rule, dec.Due, now, dec.Justification
		if err := store.Settle(ctx, tx, *d); err != nil {
			return out, err
		}
		if err := s.announce(ctx, tx, r, d); err != nil {
			return out, err
		}
		s.Log.Info("review: deliverable settled", "deliverable", d.ID, "state", d.State, "rule", d.Rule,
			"due", d.SettledAt, "fired", now)
	}
	var err error
	if out.Next.IsZero() {
		_, err = timer.Cancel(ctx, tx, Schema, timerKey(r.Reference))
	} else {
		err = timer.Schedule(ctx, tx, Schema, timer.Timer{Key: timerKey(r.Reference), Kind: TimerKind, Due: out.Next, Payload: []byte(r.Reference)})
	}
	return out, err
}

func decision(out rule.Outcome, d *store.Deliverable) rule.Decision {
	if d.Kind == "F1" {
		return out.F1
	}
	if pd, ok := out.Pole(d.Pole); ok {
		return pd
	}
	return rule.Decision{}
}

func (s *Service) announce(ctx context.Context, tx pgx.Tx, r *store.Review, d *store.Deliverable) error {
	var del *eventsv1.Deliverable
	for _, x := range r.Completed.GetDeliverables() {
		if x.GetDeliverableId() == d.ID {
			del = x
		}
	}
	if del == nil {
		return fmt.Errorf("review: %s is not in the ExtractionCompleted of %s", d.ID, r.Reference)
	}
	meta, due, requester := s.meta(r), timestamppb.New(d.SettledAt), r.Completed.GetRequester()
	var ev bus.Event
	if d.State == rule.Released {
		ev = &eventsv1.ReleaseGranted{Meta: meta, Reference: r.Reference, Deliverable: del, Rule: RuleProto(d.Rule), DueAt: due, Requester: requester}
	} else {
		ev = &eventsv1.ReleaseWithheld{Meta: meta, Reference: r.Reference, Deliverable: del, Justification: d.Justification,
			Requester: requester, Rule: RuleProto(d.Rule), DueAt: due}
	}
	_, err := s.Emitter.Emit(ctx, tx, ev)
	return err
}

// RuleProto is a rule as the contracts spell it.
func RuleProto(r rule.Rule) eventsv1.ReleaseRule {
	switch r {
	case rule.RuleF1:
		return eventsv1.ReleaseRule_RELEASE_RULE_F1
	case rule.RuleFavorable:
		return eventsv1.ReleaseRule_RELEASE_RULE_FAVORABLE
	case rule.RuleTacit:
		return eventsv1.ReleaseRule_RELEASE_RULE_TACIT
	case rule.RuleBatched:
		return eventsv1.ReleaseRule_RELEASE_RULE_BATCHED
	case rule.RuleUnfavorable:
		return eventsv1.ReleaseRule_RELEASE_RULE_UNFAVORABLE
	}
	return eventsv1.ReleaseRule_RELEASE_RULE_UNSPECIFIED
}
