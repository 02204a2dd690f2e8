// Package membership is intake's registry of structures and their
// membership of the SINP: who is an adherent (and so receives F2), the
// pre-adherents waiting, their promotion judged by every pôle and decided
// by the administrator, withdrawals, and the import of the regional
// registry's CSV.
//
//	rule/      the domain: statuses, promotions, positions, profiles (pure)
//	registry/  the registry's CSV, read and checked (pure)
//	store/     PostgreSQL (schema intake, migration 0003_membership.sql)
//	app/       the use cases, each one transaction with its events
//	api/       the gRPC MembershipService and who may call what (Access)
//	commands.go  `sinp member ...`, a client of the API
//
// This package is what the rest of intake uses: Lookup (a requester's
// entitlement), NewServer and Access (wiring), Commands (the CLI).
package membership

import (
	"context"
	"errors"
	"log/slog"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/api"
	"sinp.occitanie.fr/services/intake/membership/app"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// ErrNotFound: no structure of the registry has that id.
var ErrNotFound = errors.New("membership: no such structure in the registry")

// Member is what intake needs to know of a requester's structure.
type Member struct {
	ID     string
	Name   string
	Status intakev1.MembershipStatus
}

// Adherent reports whether the structure receives F2.
func (m Member) Adherent() bool {
	return m.Status == intakev1.MembershipStatus_MEMBERSHIP_STATUS_ADHERENT
}

// Membership is the structure's membership as events carry it (a withdrawn
// structure is a non-adherent).
func (m Member) Membership() eventsv1.Membership {
	return app.Membership(app.StatusOf(m.Status))
}

// Lookup reads a structure's membership now, inside the caller's
// transaction when q is one, so that an entitlement decided at submission
// or instruction is the one committed with it. A structure absent from
// the registry is ErrNotFound: the caller treats it as a non-adherent.
func Lookup(ctx context.Context, q pg.Querier, structureID string) (Member, error) {
	name, status, err := store.Member(ctx, q, structureID)
	if errors.Is(err, store.ErrNotFound) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, err
	}
	return Member{ID: structureID, Name: name, Status: app.StatusProto(status)}, nil
}

// Access says who may call each MembershipService method (api.Access).
var Access auth.Rules = api.Access

// NewServer returns the MembershipService of intake's registry: db is
// intake's pool (schema intake migrated), emitter its outbox
// (outbox.Emitter for schema intake), clk the deployment's clock; log
// receives internal errors. Register it with
// intakev1.RegisterMembershipServiceServer and merge Access into the
// server's rules.
func NewServer(db app.Database, emitter app.Emitter, clk clock.Clock, log *slog.Logger) *api.Server {
	return api.New(&app.Service{DB: db, Emitter: emitter, Clock: clk}, log)
}
