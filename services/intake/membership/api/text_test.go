package api_test

import (
	"strings"
	"testing"

	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/internal/testserver"
)

// What reaches the registry's history, events and feeds is text a person
// could have typed: a NUL, an escape sequence, a forged line or a
// right-to-left override is refused naming its field, invisible
// characters are no argument, and line breaks are stored one way.
func TestTheRegistryTakesOnlyText(t *testing.T) {
	srv := testserver.Start(t)
	cl, admin := srv.Client, srv.As(t, testserver.Admin)
	oiseaux := srv.As(t, testserver.Reviewer("oiseaux"))

	if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{
		Name: "Faunae\u202Eexe.pdf", Type: "bureau d'études"}}); !violates(err, "structure.name") {
		t.Errorf("a name with a right-to-left override: %v", err)
	}
	if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{
		Name: strings.Repeat("\u200b", 10), Type: "bureau d'études"}}); !violates(err, "structure.name") {
		t.Errorf("a name of zero-width spaces: %v", err)
	}
	if _, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{
		Name: "Faunae", Type: "bureau d'études", Remarks: "vu\x00 en CT"}}); !violates(err, "structure.remarks") {
		t.Errorf("remarks with a NUL: %v", err)
	}
	created, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{Name: "Faunae", Type: "bureau d'études"}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.Structure.Id

	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: id, Remarks: "proposée\x00 par le CT"}); !violates(err, "remarks") {
		t.Errorf("opening remarks with a NUL: %v", err)
	}
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: id, Remarks: "proposée par le CT\r\nde juin 2020"}); err != nil {
		t.Fatal(err)
	}
	for name, arg := range map[string]string{
		"an escape sequence":         "données non versées\x1b[2J",
		"zero-width spaces only":     strings.Repeat("\u200b", 25),
		"a bidirectional isolate":    "avis \u2066défavorable\u2069",
		"a C1 control":               "non\u009b versées",
		"more than the most allowed": strings.Repeat("a", 4001),
	} {
		if _, err := cl.RecordPromotionOpinion(oiseaux, &intakev1.RecordPromotionOpinionRequest{StructureId: id, Argument: arg}); !violates(err, "argument") {
			t.Errorf("an objection whose argument is %s: %v", name, err)
		}
	}
	got, err := srv.App.Get(admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Promotion.Remarks != "proposée par le CT\nde juin 2020" || len(got.Promotion.Positions) != 0 {
		t.Errorf("stored: remarks %q, positions %v", got.Promotion.Remarks, got.Promotion.Positions)
	}
}

// A promotion collects each pôle's position before the administrator
// decides: deciding while pôles are silent says why, and the refusal
// names them.
func TestADecisionWhilePolesAreSilent(t *testing.T) {
	srv := testserver.Start(t)
	cl, admin := srv.Client, srv.As(t, testserver.Admin)
	created, err := cl.CreateStructure(admin, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{Name: "Faunae", Type: "bureau d'études"}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.Structure.Id
	if _, err := cl.OpenPromotion(admin, &intakev1.OpenPromotionRequest{StructureId: id}); err != nil {
		t.Fatal(err)
	}
	for _, pole := range []string{"flore", "invertebres", "mammiferes", "oiseaux"} {
		if _, err := cl.RecordPromotionOpinion(srv.As(t, testserver.Reviewer(pole)), &intakev1.RecordPromotionOpinionRequest{StructureId: id, Approves: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, remarks := range []string{"", "vu en CT", strings.Repeat("\u200b", 30)} {
		_, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: id, Promote: true, Remarks: remarks})
		if !violates(err, "remarks") || !strings.Contains(err.Error(), "reptiles_amphibiens, poissons") {
			t.Errorf("promoted with remarks %q while two pôles are silent: %v", remarks, err)
		}
	}
	decided, err := cl.DecidePromotion(admin, &intakev1.DecidePromotionRequest{StructureId: id, Promote: true,
		Remarks: "les pôles reptiles et poissons, relancés deux fois, n'ont pas répondu"})
	if err != nil || decided.Structure.Status != adherent {
		t.Fatalf("promoted with remarks: %v %v", decided, err)
	}
	got, err := srv.App.Get(admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Promotion.SilentAtDecision, ",") != "reptiles_amphibiens,poissons" {
		t.Errorf("silent pôles kept with the decision: %v", got.Promotion.SilentAtDecision)
	}
	// Shown with the decision, and announced with it.
	if s := strings.Join(decided.Structure.Promotion.GetSilentPoles(), ","); s != "reptiles_amphibiens,poissons" {
		t.Errorf("the decided promotion shows silent pôles %q", s)
	}
	evs := srv.Events(t)
	if last := evs[len(evs)-1]; strings.Join(last.GetSilentPoles(), ",") != "reptiles_amphibiens,poissons" {
		t.Errorf("MembershipChanged of the decision: silent pôles %v", last.GetSilentPoles())
	}
}
