// Package app is the membership registry's use cases: create and edit a
// structure (and re-admit a withdrawn one), open a promotion, record a
// pôle's position, decide, withdraw, import the registry's CSV, and the
// queries. Each applies package rule and records through package store in
// one transaction, with the MembershipChanged event of every status change
// it makes.
package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// Emitter adds events to intake's outbox inside the caller's transaction
// (outbox.Emitter).
type Emitter interface {
	Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error)
}

// Database is where the registry lives: intake's pool.
type Database interface {
	pg.Beginner
	pg.Querier
}

// Service is the membership registry.
type Service struct {
	DB      Database
	Emitter Emitter
	// Clock is the deployment's: a promotion decided under an accelerated
	// clock is dated as the rest of the platform sees it.
	Clock clock.Clock
}

// Invalid is a structure the rules refuse, field by field (fields as the
// Structure message names them).
type Invalid struct {
	Violations []rule.Violation
}

func (e *Invalid) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Problem
	}
	return "membership: invalid structure: " + strings.Join(parts, "; ")
}

// now is the clock's reading at PostgreSQL's precision, so that what is
// stored and read back compares equal to what was decided.
func (s *Service) now() time.Time {
	var t time.Time
	if s.Clock != nil {
		t = s.Clock.Now()
	} else {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// announce emits the MembershipChanged of a status change. The aggregate
// is the structure, so that consumers order one structure's changes.
func (s *Service) announce(ctx context.Context, tx pgx.Tx, st *store.Structure, c rule.Change) error {
	ev := &eventsv1.MembershipChanged{
		Meta:        &eventsv1.Meta{Aggregate: Aggregate(st.ID)},
		StructureId: st.ID, StructureName: st.Name,
		From: Membership(c.From), To: Membership(c.To), DecidedBy: c.By, Remarks: c.Remarks,
	}
	// A promotion's decision names the pôles it was taken without.
	if p := st.Promotion; p != nil && p.State != rule.Open && p.DecidedAt.Equal(c.At) {
		ev.SilentPoles = p.SilentAtDecision
	}
	if _, err := s.Emitter.Emit(ctx, tx, ev); err != nil {
		return fmt.Errorf("membership: announce %s: %w", st.ID, err)
	}
	return nil
}

// Aggregate names a structure among intake's event aggregates (requests
// are the others).
func Aggregate(structureID string) string { return "structure/" + structureID }

// Membership is a status as events spell it. A withdrawn structure is a
// non-adherent: events carry entitlement, and it has none left.
func Membership(s rule.Status) eventsv1.Membership {
	switch s {
	case rule.Adherent:
		return eventsv1.Membership_MEMBERSHIP_ADHERENT
	case rule.PreAdherent:
		return eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT
	case rule.Withdrawn:
		return eventsv1.Membership_MEMBERSHIP_NON_ADHERENT
	}
	return eventsv1.Membership_MEMBERSHIP_UNSPECIFIED
}

// StatusProto is a status as the API spells it.
func StatusProto(s rule.Status) intakev1.MembershipStatus {
	switch s {
	case rule.PreAdherent:
		return intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT
	case rule.Adherent:
		return intakev1.MembershipStatus_MEMBERSHIP_STATUS_ADHERENT
	case rule.Withdrawn:
		return intakev1.MembershipStatus_MEMBERSHIP_STATUS_WITHDRAWN
	}
	return intakev1.MembershipStatus_MEMBERSHIP_STATUS_UNSPECIFIED
}

// StatusOf is the API's status in the rule's words.
func StatusOf(s intakev1.MembershipStatus) rule.Status {
	switch s {
	case intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT:
		return rule.PreAdherent
	case intakev1.MembershipStatus_MEMBERSHIP_STATUS_ADHERENT:
		return rule.Adherent
	case intakev1.MembershipStatus_MEMBERSHIP_STATUS_WITHDRAWN:
		return rule.Withdrawn
	}
	return rule.None
}
