package request

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
)

// Decision is the administrator's instruction of a request.
type Decision struct {
	Reference string
	Accept    bool
	Reason    string
	Remarks   string
	Key       string
}

// Instruct accepts a deposited request, resolving the F2 entitlement from
// the registry at this moment (a later change of membership changes
// nothing for it), or rejects it with a reason. A retry with the same
// idempotency key returns the first result and emits nothing.
func (s *Service) Instruct(ctx context.Context, p auth.Principal, d Decision) (*Record, bool, error) {
	d, bad := CheckDecision(d)
	if len(bad) > 0 {
		return nil, false, grpcserver.Invalid(bad...)
	}
	var out *Record
	replayed := false
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		// The key first, then the request: two calls with one key take
		// their turn even for different requests, and the second replays
		// or is refused instead of failing on the key's row.
		if d.Key != "" {
			if err := lock(ctx, tx, "instruct-key", p.String()+" "+d.Key); err != nil {
				return err
			}
			k, found, err := getInstructionKey(ctx, tx, p.String(), d.Key)
			if err != nil {
				return err
			}
			if found {
				if k.Reference != d.Reference || k.Accept != d.Accept || k.Reason != d.Reason {
					return grpcserver.Invalid(grpcserver.Violation{Field: "idempotency_key", Description: ErrKeyReused.Error()})
				}
				r, err := lockRecord(ctx, tx, d.Reference)
				out, replayed = r, true
				return err
			}
		}
		r, err := lockRecord(ctx, tx, d.Reference)
		if err != nil {
			return err
		}
		action := "instructed"
		if !d.Accept {
			action = "rejected"
		}
		if err := Decide(r.State, action); err != nil {
			return err
		}
		now := s.now()
		r.UpdatedAt, r.InstructedAt, r.InstructedBy = now, now, p.String()
		if d.Accept {
			instructed, err := s.instruction(ctx, tx, r, p, 0)
			if err != nil {
				return err
			}
			r.State, r.Instruction, r.F2Entitled = Instructed, instructed, &instructed.F2Entitled
			if _, err := s.Emitter.Emit(ctx, tx, instructed); err != nil {
				return err
			}
			detail := "F1 only"
			if instructed.F2Entitled {
				detail = "F1 and F2 (adherent)"
			}
			if d.Remarks != "" {
				detail += "; " + d.Remarks
			}
			err = addHistory(ctx, tx, r.Reference, HistoryEntry{At: now, What: "instructed", Who: p.String(), Detail: detail})
			if err != nil {
				return err
			}
		} else {
			r.State, r.RejectionReason = Rejected, d.Reason
			if _, err := s.Emitter.Emit(ctx, tx, &eventsv1.RequestRejected{Meta: s.meta(r), Reference: r.Reference,
				Reason: d.Reason, RejectedBy: p.String()}); err != nil {
				return err
			}
			if err := addHistory(ctx, tx, r.Reference, HistoryEntry{At: now, What: "rejected", Who: p.String(), Detail: d.Reason}); err != nil {
				return err
			}
		}
		if d.Key != "" {
			if err := putInstructionKey(ctx, tx, p.String(), d.Key, instructionKey{Reference: d.Reference, Accept: d.Accept, Reason: d.Reason}); err != nil {
				return err
			}
		}
		out = r
		return saveRecord(ctx, tx, r)
	})
	if err != nil {
		return nil, false, err
	}
	return out, replayed, loadDetails(ctx, s.DB, out)
}

func (s *Service) meta(r *Record) *eventsv1.Meta {
	return &eventsv1.Meta{RequestId: r.Reference, CausationId: r.Submission.GetMeta().GetEventId()}
}

// instruction is the snapshot the extractor works from: everything it
// needs, and the entitlement as the registry says now.
func (s *Service) instruction(ctx context.Context, q pg.Querier, r *Record, by auth.Principal, retry int32) (*eventsv1.RequestInstructed, error) {
	sub := r.Submission
	requester := proto.Clone(sub.GetRequester()).(*eventsv1.Requester)
	if requester.GetAccountId() != "" && requester.GetStructureId() != "" {
		m, err := s.Registry(ctx, q, requester.GetStructureId())
		if err != nil {
			return nil, fmt.Errorf("intake: the registry: %w", err)
		}
		requester.Membership, requester.StructureName, requester.MembershipFromRegistry = m.Membership, m.Name, true
	} else {
		requester.Membership = eventsv1.Membership_MEMBERSHIP_NON_ADHERENT
	}
	return &eventsv1.RequestInstructed{Meta: s.meta(r), Reference: r.Reference, Requester: requester, Purpose: sub.GetPurpose(),
		Perimeter: sub.GetPerimeter(), Scope: sub.GetScope(), Period: sub.GetPeriod(), Options: sub.GetOptions(),
		F2Entitled: requester.GetMembership() == eventsv1.Membership_MEMBERSHIP_ADHERENT, InstructedBy: by.String(), Retry: retry}, nil
}

// Cancel withdraws a deposited request (its requester, or the
// administrator).
func (s *Service) Cancel(ctx context.Context, p auth.Principal, ref, reason string) (*Record, error) {
	reason, bad := CheckCancellation(reason)
	if len(bad) > 0 {
		return nil, grpcserver.Invalid(bad...)
	}
	var out *Record
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		r, err := lockRecord(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !visible(p, r) {
			return ErrNotFound
		}
		if err := Decide(r.State, "cancelled"); err != nil {
			return err
		}
		now := s.now()
		r.State, r.CancellationReason, r.UpdatedAt = Cancelled, reason, now
		if _, err := s.Emitter.Emit(ctx, tx, &eventsv1.RequestCancelled{Meta: s.meta(r), Reference: ref, Reason: reason, CancelledBy: p.String()}); err != nil {
			return err
		}
		if err := addHistory(ctx, tx, ref, HistoryEntry{At: now, What: "cancelled", Who: p.String(), Detail: reason}); err != nil {
			return err
		}
		out = r
		return saveRecord(ctx, tx, r)
	})
	if err != nil {
		return nil, err
	}
	return out, loadDetails(ctx, s.DB, out)
}

// Retry instructs again a request whose extraction failed, with the
// instruction's snapshot (entitlement included) unchanged.
func (s *Service) Retry(ctx context.Context, p auth.Principal, ref string) (*Record, error) {
	var out *Record
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		r, err := lockRecord(ctx, tx, ref)
		if err != nil {
			return err
		}
		if err := Decide(r.State, "retried"); err != nil {
			return err
		}
		if r.Instruction == nil {
			return errors.New("intake: a failed request without its instruction")
		}
		now := s.now()
		r.Retry++
		again := proto.Clone(r.Instruction).(*eventsv1.RequestInstructed)
		again.Meta, again.Retry, again.InstructedBy = s.meta(r), int32(r.Retry), p.String()
		r.State, r.Instruction, r.Failure, r.UpdatedAt = Instructed, again, "", now
		if _, err := s.Emitter.Emit(ctx, tx, again); err != nil {
			return err
		}
		if err := addHistory(ctx, tx, ref, HistoryEntry{At: now, What: "extraction retried", Who: p.String(), Detail: fmt.Sprintf("attempt series %d", r.Retry+1)}); err != nil {
			return err
		}
		out = r
		return saveRecord(ctx, tx, r)
	})
	if err != nil {
		return nil, err
	}
	return out, loadDetails(ctx, s.DB, out)
}

// Estimate asks the extractor what the request would deliver, with the
// entitlement as the registry says now.
func (s *Service) Estimate(ctx context.Context, ref string) (*Record, *eventsv1.RequestInstructed, *extractorv1.EstimateExtractionResponse, error) {
	r, err := getRecord(ctx, s.DB, ref)
	if err != nil {
		return nil, nil, nil, err
	}
	snap, err := s.instruction(ctx, s.DB, r, auth.Principal{}, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	est, err := s.Extractor.EstimateExtraction(ctx, &extractorv1.EstimateExtractionRequest{Perimeter: snap.Perimeter, Scope: snap.Scope,
		Period: snap.Period, Options: snap.Options, F2Entitled: snap.F2Entitled})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return r, snap, est, nil
}
