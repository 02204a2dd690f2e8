package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/grpcserver"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership"
	"sinp.occitanie.fr/services/intake/membership/internal/testserver"
)

const (
	preAdherent = intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT
	adherent    = intakev1.MembershipStatus_MEMBERSHIP_STATUS_ADHERENT
	withdrawn   = intakev1.MembershipStatus_MEMBERSHIP_STATUS_WITHDRAWN
)

// A pre-adherent's promotion from end to end: the administrator opens it,
// pôles give their positions (one revised, one an objection with its
// argument), the administrator decides seeing them all, the structure is
// an adherent, the change is in its history and in intake's outbox, and
// the rest of intake reads the new entitlement.
func TestAPromotionFromOpeningToAdherent(t *testing.T) {
	srv := testserver.Start(t)
	cl := srv.Client
	admin := srv.As(t, testserver.Admin)
	ctx := context.Background()

	created, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{
		Name: "Ecosphere", Type: "bureau d'études", Poles: []string{"oiseaux", "mammiferes"}, Departements: []string{"34", "30"},
		Contact: &intakev1.Contact{Name: "Agence Occitanie", Email: "occitanie@ecosphere.fr"}, RegistryId: "28"}})
	if err != nil {
		t.Fatal(err)
	}
	st := created.Structure
	if st.Status != preAdherent || strings.Join(st.Departements, ",") != "30,34" || strings.Join(st.Poles, ",") != "mammiferes,oiseaux" {
		t.Fatalf("created: %v", st)
	}
	if m, err := membership.Lookup(ctx, srv.DB, st.Id); err != nil || m.Adherent() || m.Membership() != eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT || m.Name != "Ecosphere" {
		t.Fatalf("lookup of a pre-adherent: %+v %v", m, err)
	}

	opened, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: st.Id, Remarks: "Transmettent des jeux de données"})
	if err != nil || opened.Promotion.State != intakev1.PromotionState_PROMOTION_STATE_OPEN {
		t.Fatalf("open: %v %v", opened, err)
	}
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: st.Id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a second promotion while one is open: %v", err)
	}

	opinion := func(pole string, approves bool, argument string) (*intakev1.Promotion, error) {
		srv.Clock.Advance(ctx, time.Hour, "")
		resp, err := cl.RecordPromotionOpinion(srv.As(t, testserver.Reviewer(pole)), &intakev1.RecordPromotionOpinionRequest{
			StructureId: st.Id, Approves: approves, Argument: argument})
		return resp.GetPromotion(), err
	}
	if _, err := opinion("mammiferes", false, "  "); !violates(err, "argument") {
		t.Errorf("an objection without argument: %v", err)
	}
	if _, err := opinion("oiseaux", false, "Aucune donnée oiseaux versée depuis 2018"); err != nil {
		t.Fatal(err)
	}
	if _, err := opinion("flore", true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := opinion("mammiferes", false, "Données chiroptères non transmises"); err != nil {
		t.Fatal(err)
	}
	revisedAt := srv.Clock.Now().Add(time.Hour)
	p, err := opinion("oiseaux", true, "Données reçues le 2 mars") // revised
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Positions) != 3 || p.Positions[0].Pole != "oiseaux" || !p.Positions[0].Approves || !p.Positions[0].At.AsTime().Equal(revisedAt) ||
		p.Positions[0].Reviewer != "rev-oiseaux" {
		t.Fatalf("positions after the revision (latest first): %v", p.Positions)
	}

	// The administrator sees every pôle's position before deciding.
	got, err := cl.GetStructure(admin, &intakev1.GetStructureRequest{Id: st.Id})
	if err != nil {
		t.Fatal(err)
	}
	positions := map[string]*intakev1.PolePosition{}
	for _, pos := range got.Structure.Promotion.Positions {
		positions[pos.Pole] = pos
	}
	if len(positions) != 3 || !positions["oiseaux"].Approves || !positions["flore"].Approves ||
		positions["mammiferes"].Approves || positions["mammiferes"].Argument != "Données chiroptères non transmises" {
		t.Fatalf("positions the administrator sees: %v", got.Structure.Promotion.Positions)
	}

	// Promoting over the mammiferes objection says why.
	if _, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: st.Id, Promote: true}); !violates(err, "remarks") {
		t.Fatalf("promoting over an objection without remarks: %v", err)
	}
	srv.Clock.Advance(ctx, 24*time.Hour, "")
	decidedAt := srv.Clock.Now()
	decided, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: st.Id, Promote: true,
		Remarks: "Les données chiroptères sont attendues pour juin; avis favorable du comité technique"})
	if err != nil {
		t.Fatal(err)
	}
	d := decided.Structure
	if d.Status != adherent || d.Promotion.State != intakev1.PromotionState_PROMOTION_STATE_PROMOTED || d.Promotion.DecidedBy != "administrator:dreal-1" ||
		!d.Promotion.DecidedAt.AsTime().Equal(decidedAt) {
		t.Fatalf("decided: %v", d)
	}
	if n := len(d.History); n != 2 || d.History[0].From != intakev1.MembershipStatus_MEMBERSHIP_STATUS_UNSPECIFIED || d.History[0].To != preAdherent ||
		d.History[1].From != preAdherent || d.History[1].To != adherent || d.History[1].By != "administrator:dreal-1" ||
		!d.History[1].At.AsTime().Equal(decidedAt) || !strings.HasPrefix(d.History[1].Remarks, "Les données chiroptères") {
		t.Fatalf("history: %v", d.History)
	}
	if _, err := opinion("poissons", true, ""); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a position after the decision: %v", err)
	}

	evs := srv.Events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events in the outbox, want the decision's", len(evs))
	}
	ev := evs[0]
	if ev.StructureId != st.Id || ev.StructureName != "Ecosphere" || ev.From != eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT ||
		ev.To != eventsv1.Membership_MEMBERSHIP_ADHERENT || ev.DecidedBy != "administrator:dreal-1" || !strings.HasPrefix(ev.Remarks, "Les données chiroptères") ||
		ev.Meta.GetProducer() != "intake" || ev.Meta.GetAggregate() != "structure/"+st.Id || !ev.Meta.GetOccurredAt().AsTime().Equal(decidedAt) ||
		ev.Meta.GetEventId() == "" {
		t.Errorf("MembershipChanged: %v", ev)
	}

	adherents, err := cl.ListAdherents(ctx, &intakev1.ListAdherentsRequest{})
	if err != nil || len(adherents.Adherents) != 1 {
		t.Fatalf("public list: %v %v", adherents, err)
	}
	if a := adherents.Adherents[0]; a.Id != st.Id || a.Name != "Ecosphere" || a.Type != "bureau d'études" || strings.Join(a.Poles, ",") != "mammiferes,oiseaux" ||
		strings.Join(a.Departements, ",") != "30,34" || !a.AdherentSince.AsTime().Equal(decidedAt) {
		t.Errorf("public entry: %v", a)
	}
	if m, err := membership.Lookup(ctx, srv.DB, st.Id); err != nil || !m.Adherent() || m.Membership() != eventsv1.Membership_MEMBERSHIP_ADHERENT {
		t.Errorf("lookup of an adherent: %+v %v", m, err)
	}

	// Withdrawn, then re-admitted: as a pre-adherent only.
	w, err := cl.WithdrawMembership(admin, &intakev1.WithdrawMembershipRequest{StructureId: st.Id, Remarks: "a cessé son activité en Occitanie"})
	if err != nil || w.Structure.Status != withdrawn {
		t.Fatalf("withdraw: %v %v", w, err)
	}
	if _, err := cl.WithdrawMembership(admin, &intakev1.WithdrawMembershipRequest{StructureId: st.Id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("withdrawn twice: %v", err)
	}
	if m, _ := membership.Lookup(ctx, srv.DB, st.Id); m.Adherent() || m.Membership() != eventsv1.Membership_MEMBERSHIP_NON_ADHERENT {
		t.Errorf("lookup of a withdrawn structure: %+v", m)
	}
	if a, _ := cl.ListAdherents(ctx, &intakev1.ListAdherentsRequest{}); len(a.GetAdherents()) != 0 {
		t.Errorf("a withdrawn structure is listed: %v", a)
	}
	if _, err := cl.UpdateStructure(admin, &intakev1.UpdateStructureRequest{Structure: &intakev1.Structure{Id: st.Id, Status: adherent}}); !violates(err, "structure.status") {
		t.Errorf("re-admitted straight as an adherent: %v", err)
	}
	back, err := cl.UpdateStructure(admin, &intakev1.UpdateStructureRequest{Structure: &intakev1.Structure{Id: st.Id, Status: preAdherent, Remarks: "nouvelle demande"}})
	if err != nil || back.Structure.Status != preAdherent || back.Structure.Name != "Ecosphere" || back.Structure.Contact.GetEmail() != "occitanie@ecosphere.fr" {
		t.Fatalf("re-admitted: %v %v", back, err)
	}
	// Echoing the status back changes nothing.
	if _, err := cl.UpdateStructure(admin, &intakev1.UpdateStructureRequest{Structure: back.Structure}); err != nil {
		t.Errorf("the structure as read, sent back: %v", err)
	}

	evs = srv.Events(t)
	var moves []string
	for _, e := range evs {
		moves = append(moves, short(e.From)+">"+short(e.To))
	}
	if strings.Join(moves, " ") != "pre_adherent>adherent adherent>non_adherent non_adherent>pre_adherent" {
		t.Errorf("events: %s", strings.Join(moves, " "))
	}
	var seqs []int64
	rows, _ := srv.DB.Query(ctx, `SELECT sequence FROM intake.outbox ORDER BY seq`)
	for rows.Next() {
		var s int64
		_ = rows.Scan(&s)
		seqs = append(seqs, s)
	}
	if len(seqs) != 3 || seqs[0] != 1 || seqs[2] != 3 {
		t.Errorf("the structure's events are numbered %v", seqs)
	}
	final, _ := cl.GetStructure(admin, &intakev1.GetStructureRequest{Id: st.Id})
	if n := len(final.Structure.History); n != 4 {
		t.Errorf("history of %d changes, want entered, promoted, withdrawn, re-admitted: %v", n, final.Structure.History)
	}
}

// A refusal is a decision too: recorded, announced, and the structure
// stays a pre-adherent that may be proposed again. A withdrawal closes a
// promotion still open.
func TestARefusedPromotion(t *testing.T) {
	srv := testserver.Start(t)
	cl, admin := srv.Client, srv.As(t, testserver.Admin)
	s, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{Name: "EVEN CONSEIL", Type: "bureau d'études"}})
	if err != nil {
		t.Fatal(err)
	}
	id := s.Structure.Id
	if _, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: id, Promote: true}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a decision without a promotion: %v", err)
	}
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: id}); !violates(err, "remarks") {
		t.Errorf("a refusal without remarks: %v", err)
	}
	r, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: id, Remarks: "36 observations en 2018 seulement"})
	if err != nil || r.Structure.Status != preAdherent || r.Structure.Promotion.State != intakev1.PromotionState_PROMOTION_STATE_REFUSED ||
		r.Structure.Promotion.Remarks != "36 observations en 2018 seulement" {
		t.Fatalf("refused: %v %v", r, err)
	}
	evs := srv.Events(t)
	if len(evs) != 1 || evs[0].From != eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT || evs[0].To != eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT {
		t.Fatalf("the refusal's event: %v", evs)
	}

	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: id, Remarks: "second try"}); err != nil {
		t.Fatalf("a new promotion after a refusal: %v", err)
	}
	w, err := cl.WithdrawMembership(admin, &intakev1.WithdrawMembershipRequest{StructureId: id})
	if err != nil || w.Structure.Promotion.State != intakev1.PromotionState_PROMOTION_STATE_REFUSED || w.Structure.Status != withdrawn {
		t.Fatalf("withdrawn with a promotion open: %v %v", w, err)
	}
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a promotion for a withdrawn structure: %v", err)
	}
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: "st-nobody"}); status.Code(err) != codes.NotFound {
		t.Errorf("a promotion for no structure: %v", err)
	}
}

// Bad input gets an error naming the field.
func TestBadInputNamesTheField(t *testing.T) {
	srv := testserver.Start(t)
	cl, admin := srv.Client, srv.As(t, testserver.Admin)
	good := func() *intakev1.Structure {
		return &intakev1.Structure{Name: "Faunae", Type: "bureau d'études", Poles: []string{"oiseaux"}, Departements: []string{"31"}}
	}
	rows := []struct {
		name   string
		change func(s *intakev1.Structure)
		field  string
	}{
		{"no name", func(s *intakev1.Structure) { s.Name = "" }, "structure.name"},
		{"no type", func(s *intakev1.Structure) { s.Type = " " }, "structure.type"},
		{"an unknown pôle", func(s *intakev1.Structure) { s.Poles = []string{"oiseaux", "champignons"} }, "structure.poles[1]"},
		{"a département outside Occitanie", func(s *intakev1.Structure) { s.Departements = []string{"31", "13"} }, "structure.departements[1]"},
		{"a bad e-mail", func(s *intakev1.Structure) { s.Contact = &intakev1.Contact{Email: "faunae.fr"} }, "structure.contact.email"},
		{"a geometry that is not WKT", func(s *intakev1.Structure) { s.ScopeWkt = "POLYGON((0 0" }, "structure.scope_wkt"},
		{"created as an adherent", func(s *intakev1.Structure) { s.Status = adherent }, "structure.status"},
		{"a registry number that is not one", func(s *intakev1.Structure) { s.RegistryId = "six" }, "structure.registry_id"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			s := good()
			r.change(s)
			_, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: s})
			if !violates(err, r.field) {
				t.Errorf("%v, want a violation of %s", err, r.field)
			}
		})
	}
	if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{}); !violates(err, "structure") {
		t.Errorf("no structure: %v", err)
	}
	s, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: good()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.UpdateStructure(admin, &intakev1.UpdateStructureRequest{Structure: &intakev1.Structure{Id: s.Structure.Id, Departements: []string{"2A"}}}); !violates(err, "structure.departements[0]") {
		t.Errorf("an edit with a bad département: %v", err)
	}
	if _, err := cl.UpdateStructure(admin, &intakev1.UpdateStructureRequest{Structure: &intakev1.Structure{Name: "x"}}); !violates(err, "structure.id") {
		t.Errorf("an edit without id: %v", err)
	}
	if _, err := cl.GetStructure(admin, &intakev1.GetStructureRequest{}); !violates(err, "id") {
		t.Errorf("no id: %v", err)
	}
	if _, err := cl.ListStructures(admin, &intakev1.ListStructuresRequest{PageSize: 10000}); !violates(err, "page_size") {
		t.Errorf("a page too large: %v", err)
	}
	if _, err := cl.ListStructures(admin, &intakev1.ListStructuresRequest{PageToken: "bm9wZQ"}); !violates(err, "page_token") {
		t.Errorf("a forged page token: %v", err)
	}
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{}); !violates(err, "structure_id") {
		t.Errorf("no structure_id: %v", err)
	}
	if _, err := cl.ImportRegistry(admin, &intakev1.ImportRegistryRequest{}); !violates(err, "csv") {
		t.Errorf("no csv: %v", err)
	}
	// A registry number belongs to one structure.
	other := good()
	other.RegistryId = "6"
	if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: other}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: other}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("registry number 6 twice: %v", err)
	}
}

func TestListingsPage(t *testing.T) {
	srv := testserver.Start(t)
	cl, admin := srv.Client, srv.As(t, testserver.Admin)
	for i := range 7 {
		if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{
			Name: string(rune('G'-i)) + " structure", Type: "association"}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	req := &intakev1.ListStructuresRequest{PageSize: 3, Status: preAdherent}
	for pages := 0; pages < 5; pages++ {
		resp, err := cl.ListStructures(admin, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range resp.Structures {
			names = append(names, s.Name[:1])
		}
		if req.PageToken = resp.NextPageToken; req.PageToken == "" {
			break
		}
	}
	if strings.Join(names, "") != "ABCDEFG" {
		t.Errorf("pages gave %v", names)
	}
	req.Status, req.PageToken = adherent, ""
	if resp, err := cl.ListStructures(admin, req); err != nil || len(resp.Structures) != 0 {
		t.Errorf("adherents: %v %v", resp, err)
	}
}

func violates(err error, field string) bool {
	if status.Code(err) != codes.InvalidArgument {
		return false
	}
	for _, v := range grpcserver.Violations(err) {
		if v.Field == field {
			return true
		}
	}
	return false
}

func short(m eventsv1.Membership) string {
	return strings.ToLower(strings.TrimPrefix(m.String(), "MEMBERSHIP_"))
}
