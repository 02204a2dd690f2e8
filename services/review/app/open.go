package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

// Open starts the review of a completed extraction (ExtractionCompleted,
// inside the consumer's transaction): F1 and every F2 of an entitled
// request are recorded, each pôle with sensitive rows gets ReviewOpened,
// and the release timer is set. A non-entitled request has F1 only and no
// review. Completing a request already under review changes nothing.
func (s *Service) Open(ctx context.Context, tx pgx.Tx, ev *eventsv1.ExtractionCompleted) error {
	e := ev.GetCompletedAt().AsTime().Truncate(time.Microsecond)
	// The deployment's policy, which every replica agreed to at start (or
	// changed since): not this replica's own configuration.
	policy := s.Policy
	if p, err := store.Policy(ctx, tx); err == nil {
		policy = p.Policy
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	r := &store.Review{Reference: ev.GetReference(), RunID: ev.GetRunId(), CompletedAt: e,
		Entitled: ev.GetF2Entitled() && ev.GetRequester().GetMembership() == eventsv1.Membership_MEMBERSHIP_ADHERENT,
		Policy:   policy, Completed: ev}
	for _, d := range ev.GetDeliverables() {
		switch {
		case d.GetKind() == eventsv1.FileKind_FILE_KIND_F1:
			r.Deliverables = append(r.Deliverables, store.Deliverable{ID: d.GetDeliverableId(), Kind: "F1"})
		case d.GetKind() == eventsv1.FileKind_FILE_KIND_F2 && r.Entitled && slices.Contains(ev.GetSensitivePoles(), d.GetPole()):
			r.Deliverables = append(r.Deliverables, store.Deliverable{ID: d.GetDeliverableId(), Kind: "F2", Pole: d.GetPole()})
		}
	}
	created, err := store.Create(ctx, tx, r)
	if err != nil {
		return err
	}
	if !created {
		s.Log.Warn("review: an extraction of this request is already under review; this completion is ignored",
			"reference", r.Reference, "run", r.RunID)
		return nil
	}
	opening := rule.Decide(r.Policy, r.Facts(), e)
	for _, pd := range opening.F2 {
		d, ok := r.Deliverable("F2", pd.Pole)
		if !ok {
			continue
		}
		if _, err := s.Emitter.Emit(ctx, tx, &eventsv1.ReviewOpened{
			Meta: s.meta(r), Reference: r.Reference, DeliverableId: d.ID, Pole: pd.Pole,
			ExtractionCompletedAt: timestamppb.New(e), Deadline: timestamppb.New(r.Policy.DeadlineAt(e)),
			DueAt: timestamppb.New(pd.Decision.Due),
		}); err != nil {
			return err
		}
	}
	// An extraction heard of late may have releases due already.
	now, err := s.decidingNow(ctx, tx)
	if err != nil {
		return err
	}
	_, err = s.settle(ctx, tx, r, now)
	return err
}

func (s *Service) meta(r *store.Review) *eventsv1.Meta {
	return &eventsv1.Meta{RequestId: r.Reference, CausationId: r.Completed.GetMeta().GetEventId()}
}
