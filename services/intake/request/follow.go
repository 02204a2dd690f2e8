package request

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/bus"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// FollowSubjects are the events intake keeps each request's status and
// history from.
var FollowSubjects = []string{
	bus.SubjectExtractionStarted, bus.SubjectExtractionDone, bus.SubjectExtractionFailed,
	bus.SubjectReviewOpened, bus.SubjectOpinionRecorded, bus.SubjectReleaseGranted, bus.SubjectReleaseWithheld,
	bus.SubjectArchivePublished, bus.SubjectNoticePublished, bus.SubjectArchiveExpired,
}

func kindName(k eventsv1.FileKind) string {
	if k == eventsv1.FileKind_FILE_KIND_F2 {
		return "F2"
	}
	return "F1"
}

func ruleName(r eventsv1.ReleaseRule) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "RELEASE_RULE_"))
}

// Follow keeps a request's status and history from another service's
// event, inside the consumer's transaction. States move forward only, so
// a redelivered or late event changes nothing; an event for a request
// intake does not know (another deployment's, a test's) is ignored.
func (s *Service) Follow(ctx context.Context, tx pgx.Tx, ev bus.Event) error {
	ref, ok := ev.(interface{ GetReference() string })
	if !ok {
		return nil
	}
	r, err := lockRecord(ctx, tx, ref.GetReference())
	if err == ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	at := ev.GetMeta().GetOccurredAt().AsTime()
	if at.IsZero() {
		at = s.now()
	}
	who := ev.GetMeta().GetProducer()
	history := func(what, detail string) error {
		return addHistory(ctx, tx, r.Reference, HistoryEntry{At: at, What: what, Who: who, Detail: detail})
	}
	moveTo := func(to State) bool {
		next, moved := Follow(r.State, to)
		r.State = next
		return moved
	}
	deliverable := func(d *eventsv1.Deliverable, to DeliverableState, edit func(*Deliverable)) (bool, error) {
		return upsertDeliverable(ctx, tx, r.Reference, Deliverable{ID: d.GetDeliverableId(), Kind: kindName(d.GetKind()), Pole: d.GetPole(),
			Rows: d.GetRows(), Bytes: d.GetBytes()}, func(cur *Deliverable) bool {
			next, moved := FollowDeliverable(cur.State, to)
			if moved {
				cur.State = next
				if edit != nil {
					edit(cur)
				}
			}
			return moved
		})
	}
	// The extraction's events of an earlier run (before a retry) are
	// history: they move nothing.
	switch ev.(type) {
	case *eventsv1.ExtractionStarted, *eventsv1.ExtractionFailed, *eventsv1.ExtractionCompleted:
		if Stale(ev.GetMeta().GetCausationId(), r.Instruction.GetMeta().GetEventId()) {
			return nil
		}
	}
	changed := false
	switch e := ev.(type) {
	case *eventsv1.ExtractionStarted:
		if changed = moveTo(Extracting); changed {
			err = history("extraction started", fmt.Sprintf("attempt %d", e.GetAttempt()))
		}
	case *eventsv1.ExtractionFailed:
		if changed = moveTo(Failed); changed {
			r.Failure = e.GetReason()
			err = history(historyFailed, fmt.Sprintf("after %d attempts: %s", e.GetAttempts(), e.GetReason()))
		}
	case *eventsv1.ExtractionCompleted:
		if changed = moveTo(Extracted); changed {
			for _, d := range e.GetDeliverables() {
				if _, err := deliverable(d, Staged, nil); err != nil {
					return err
				}
			}
			detail := fmt.Sprintf("%d rows in F1", e.GetRowsF1())
			if e.GetF2Entitled() {
				detail += fmt.Sprintf(", %d in F2", e.GetRowsF2())
			}
			if err = history("extracted", fmt.Sprintf("%s; %d archives staged", detail, len(e.GetDeliverables()))); err == nil {
				err = history(historyCounts, fmt.Sprintf("%d rows selected: %d in F1, %d in F2, %d in no file",
					e.GetRowsSelected(), e.GetRowsF1(), e.GetRowsF2(), e.GetRowsWithheld()))
			}
		}
	case *eventsv1.ReviewOpened:
		moved, derr := deliverable(&eventsv1.Deliverable{DeliverableId: e.GetDeliverableId(), Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: e.GetPole()}, UnderReview, nil)
		if err = derr; err == nil && moved {
			err = history("review opened", fmt.Sprintf("pôle %s, until %s", e.GetPole(), e.GetDeadline().AsTime().UTC().Format(time.RFC3339)))
		}
	case *eventsv1.OpinionRecorded:
		detail := fmt.Sprintf("pôle %s: %s", e.GetPole(), strings.ToLower(strings.TrimPrefix(e.GetOpinion().String(), "OPINION_")))
		if e.GetJustification() != "" {
			detail += ": " + e.GetJustification()
		}
		err = history("opinion", detail)
	case *eventsv1.ReleaseGranted:
		d := e.GetDeliverable()
		moved, derr := deliverable(d, Released, func(cur *Deliverable) {
			cur.Rule, cur.ReleasedAt = ruleName(e.GetRule()), e.GetDueAt().AsTime()
		})
		if err = derr; err == nil && moved {
			err = history("released", fmt.Sprintf("%s (rule %s)", d.GetDeliverableId(), ruleName(e.GetRule())))
		}
	case *eventsv1.ReleaseWithheld:
		d := e.GetDeliverable()
		moved, derr := deliverable(d, Withheld, func(cur *Deliverable) {
			cur.Rule, cur.Justification = ruleName(e.GetRule()), e.GetJustification()
		})
		if err = derr; err == nil && moved {
			err = history("withheld", fmt.Sprintf("%s: %s", d.GetDeliverableId(), e.GetJustification()))
		}
	case *eventsv1.ArchivePublished:
		moved, derr := deliverable(&eventsv1.Deliverable{DeliverableId: e.GetDeliverableId(), Kind: e.GetKind(), Pole: e.GetPole(), Bytes: e.GetBytes()}, Published, nil)
		if err = derr; err == nil && moved {
			err = history("published", e.GetFileName())
		}
	case *eventsv1.NoticePublished:
		moved, derr := deliverable(&eventsv1.Deliverable{DeliverableId: e.GetDeliverableId(), Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: e.GetPole()}, Withheld,
			func(cur *Deliverable) { cur.Justification = e.GetJustification() })
		if err = derr; err == nil {
			err = history("notice published", e.GetFileName())
			_ = moved
		}
	case *eventsv1.ArchiveExpired:
		// The file left the drop zone; the request stays as it was.
		err = history("expired", e.GetFileName())
	}
	if err != nil {
		return err
	}
	// Completed once every deliverable is published or withheld.
	if r.State == Extracted {
		states, err := deliverableStates(ctx, tx, r.Reference)
		if err != nil {
			return err
		}
		if Settled(states) && moveTo(Completed) {
			changed = true
			if err := history("completed", "every deliverable is published or withheld"); err != nil {
				return err
			}
		}
	}
	r.UpdatedAt = s.now()
	return saveRecord(ctx, tx, r)
}
