package api

import (
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/app"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// view is how much of a structure a caller sees.
type view int

const (
	// full: the administrator and the reviewers, who judge promotions.
	full view = iota
	// requesterView: a structure's own people see everything about it
	// but who, among the platform's agents, opened, judged or decided
	// (the pôles' positions and arguments stay: they concern them).
	requesterView
)

func viewOf(p auth.Principal) view {
	if p.Kind == auth.Requester {
		return requesterView
	}
	return full
}

func profileOf(in *intakev1.Structure) rule.Profile {
	c := in.GetContact()
	return rule.Profile{Name: in.GetName(), Type: in.GetType(), Poles: in.GetPoles(), Departements: in.GetDepartements(),
		ScopeWKT: in.GetScopeWkt(), Contact: rule.Contact{Name: c.GetName(), Email: c.GetEmail(), Phone: c.GetPhone()}}
}

func requestedAt(in *intakev1.Structure) (time.Time, []grpcserver.Violation) {
	ts := in.GetRequestedAt()
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil || ts.AsTime().Year() < 1990 {
		return time.Time{}, []grpcserver.Violation{{Field: "structure.requested_at", Description: "not a plausible date of request"}}
	}
	return ts.AsTime().UTC().Truncate(time.Microsecond), nil
}

func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func structureProto(st *store.Structure, v view) *intakev1.Structure {
	out := &intakev1.Structure{
		Id: st.ID, Name: st.Name, Type: st.Type, Poles: st.Poles, Departements: st.Departements, ScopeWkt: st.ScopeWKT,
		Status: app.StatusProto(st.Status), RequestedAt: stamp(st.RequestedAt), Remarks: st.Remarks, RegistryId: st.RegistryID,
		Promotion: promotionProto(st, v),
	}
	if c := st.Contact; c != (rule.Contact{}) {
		out.Contact = &intakev1.Contact{Name: c.Name, Email: c.Email, Phone: c.Phone}
	}
	for _, c := range st.History {
		h := &intakev1.MembershipChange{At: stamp(c.At), From: app.StatusProto(c.From), To: app.StatusProto(c.To), By: c.By, Remarks: c.Remarks}
		if v == requesterView {
			h.By = ""
		}
		out.History = append(out.History, h)
	}
	return out
}

// promotionProto shows the structure's promotion; the remarks are the
// decision's once decided (the opening's until then).
func promotionProto(st *store.Structure, v view) *intakev1.Promotion {
	p := st.Promotion
	if p == nil {
		return nil
	}
	out := &intakev1.Promotion{StructureId: st.ID, State: promotionState(p.State), OpenedAt: stamp(p.OpenedAt), OpenedBy: p.OpenedBy,
		DecidedAt: stamp(p.DecidedAt), DecidedBy: p.DecidedBy, Remarks: p.Remarks, SilentPoles: p.SilentAtDecision}
	if p.State != rule.Open && p.DecisionRemarks != "" {
		out.Remarks = p.DecisionRemarks
	}
	// Latest first: the positions that moved last are the news.
	positions := slices.Clone(p.Positions)
	slices.SortStableFunc(positions, func(a, b rule.Position) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(a.Pole, b.Pole)
	})
	for _, pos := range positions {
		pp := &intakev1.PolePosition{Pole: pos.Pole, Approves: pos.Approves, Argument: pos.Argument, Reviewer: pos.Reviewer, At: stamp(pos.At)}
		if v == requesterView {
			pp.Reviewer = ""
		}
		out.Positions = append(out.Positions, pp)
	}
	if v == requesterView {
		out.OpenedBy, out.DecidedBy = "", ""
	}
	return out
}

func adherentProto(st *store.Structure) *intakev1.Adherent {
	return &intakev1.Adherent{Id: st.ID, Name: st.Name, Type: st.Type, Poles: st.Poles, Departements: st.Departements,
		AdherentSince: stamp(st.AdherentSince)}
}

func promotionState(s rule.PromotionState) intakev1.PromotionState {
	switch s {
	case rule.Open:
		return intakev1.PromotionState_PROMOTION_STATE_OPEN
	case rule.Promoted:
		return intakev1.PromotionState_PROMOTION_STATE_PROMOTED
	case rule.Refused:
		return intakev1.PromotionState_PROMOTION_STATE_REFUSED
	}
	return intakev1.PromotionState_PROMOTION_STATE_UNSPECIFIED
}
