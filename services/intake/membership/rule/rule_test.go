package rule

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The membership rules of DESIGN.md §3 and the registry's practice, one
// row per sentence: each row starts from a standing, takes steps, and
// says where the structure ends up, or which step is refused and why.

var t0 = time.Date(2020, time.June, 18, 9, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

type step func(m *Membership) error

func open(remarks string) step {
	return func(m *Membership) error { return m.Open(at(0), "dreal", remarks) }
}

func approve(pole string, h int) step {
	return func(m *Membership) error {
		return m.Record(Position{Pole: pole, Approves: true, Reviewer: "rev-" + pole, At: at(h)})
	}
}

func object(pole string, h int, argument string) step {
	return func(m *Membership) error {
		return m.Record(Position{Pole: pole, Argument: argument, Reviewer: "rev-" + pole, At: at(h)})
	}
}

// everyPoleApproves: each of the six pôles gives its position.
func everyPoleApproves(h int) step {
	return func(m *Membership) error {
		for _, pole := range Poles {
			if err := approve(pole, h)(m); err != nil {
				return err
			}
		}
		return nil
	}
}

func decide(promote bool, remarks string) step {
	return func(m *Membership) error { _, err := m.Decide(promote, at(100), "dreal", remarks); return err }
}

func withdraw(remarks string) step {
	return func(m *Membership) error { _, err := m.Withdraw(at(200), "dreal", remarks); return err }
}

func readmit() step {
	return func(m *Membership) error { _, err := m.Readmit(at(300), "dreal", "asks again"); return err }
}

func enter() step {
	return func(m *Membership) error { _, err := m.Enter(at(0), "import", ""); return err }
}

var allApprove = map[string]bool{"flore": true, "invertebres": true, "mammiferes": true, "reptiles_amphibiens": true, "oiseaux": true, "poissons": true}

func TestMembershipRules(t *testing.T) {
	type want struct {
		status    Status
		promotion PromotionState // 0: none
		positions map[string]bool
		refused   error // the last step's error
	}
	rows := []struct {
		name  string
		from  Status
		steps []step
		want  want
	}{
		{"a structure enters the registry as a pre-adherent", None, []step{enter()},
			want{status: PreAdherent}},
		{"it enters only once", PreAdherent, []step{enter()},
			want{status: PreAdherent, refused: ErrAlreadyIn}},
		{"the administrator opens a promotion for a pre-adherent", PreAdherent, []step{open("proposed by the June 2020 committee")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}}},
		{"not for an adherent", Adherent, []step{open("")},
			want{status: Adherent, refused: ErrNotPreAdherent}},
		{"not for a withdrawn structure", Withdrawn, []step{open("")},
			want{status: Withdrawn, refused: ErrNotPreAdherent}},
		{"one promotion is open at a time", PreAdherent, []step{open(""), open("again")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrPromotionOpen}},
		{"each pôle approves, or objects with its argument", PreAdherent,
			[]step{open(""), approve("oiseaux", 1), object("flore", 2, "aucune donnée flore versée")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{"oiseaux": true, "flore": false}}},
		{"an objection without its argument is refused", PreAdherent, []step{open(""), object("flore", 2, "  ")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrArgumentRequired}},
		{"a pôle revises its position until the decision: the latest counts, once", PreAdherent,
			[]step{open(""), object("mammiferes", 1, "données chiroptères non versées"), approve("mammiferes", 5)},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{"mammiferes": true}}},
		{"an unknown pôle gives no position", PreAdherent, []step{open(""), approve("lichens", 1)},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrUnknownPole}},
		{"no position without an open promotion", PreAdherent, []step{approve("oiseaux", 1)},
			want{status: PreAdherent, refused: ErrNoOpenPromotion}},
		{"every pôle approves, the administrator promotes: the structure becomes an adherent", PreAdherent,
			[]step{open(""), everyPoleApproves(1), decide(true, "")},
			want{status: Adherent, promotion: Promoted, positions: map[string]bool{"flore": true, "invertebres": true, "mammiferes": true,
				"reptiles_amphibiens": true, "oiseaux": true, "poissons": true}}},
		{"while a pôle is silent, a decision without remarks is refused", PreAdherent,
			[]step{open(""), approve("oiseaux", 1), approve("flore", 2), decide(true, "")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{"oiseaux": true, "flore": true}, refused: ErrRemarksRequired}},
		{"and so is one with remarks too short to say why", PreAdherent, []step{open(""), decide(true, "vu en CT")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrRemarksRequired}},
		{"invisible characters are no remarks", PreAdherent, []step{open(""), decide(true, strings.Repeat("\u200b", 25))},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrRemarksRequired}},
		{"a silent pôle does not block a decision that says why", PreAdherent,
			[]step{open(""), approve("oiseaux", 1), decide(true, "relancés trois fois, sans réponse depuis deux mois")},
			want{status: Adherent, promotion: Promoted, positions: map[string]bool{"oiseaux": true}}},
		{"promoting over an objection says why", PreAdherent,
			[]step{open(""), object("poissons", 1, "pas de données piscicoles"), decide(true, "")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{"poissons": false}, refused: ErrRemarksRequired}},
		{"and may then go ahead", PreAdherent,
			[]step{open(""), object("poissons", 1, "pas de données piscicoles"), decide(true, "le pôle poissons n'est pas concerné; les autres pôles relancés sans réponse")},
			want{status: Adherent, promotion: Promoted, positions: map[string]bool{"poissons": false}}},
		{"a refusal keeps the pre-adherent and says why", PreAdherent, []step{open(""), decide(false, "")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrRemarksRequired}},
		{"refused: it stays pre-adherent", PreAdherent, []step{open(""), everyPoleApproves(1), decide(false, "aucune donnée transmise")},
			want{status: PreAdherent, promotion: Refused, positions: allApprove}},
		{"a refusal while pôles are silent says why in full", PreAdherent, []step{open(""), decide(false, "trop tôt")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}, refused: ErrRemarksRequired}},
		{"after a refusal a new promotion may open", PreAdherent, []step{open(""), everyPoleApproves(1), decide(false, "trop tôt"), open("second try")},
			want{status: PreAdherent, promotion: Open, positions: map[string]bool{}}},
		{"positions close with the decision", PreAdherent, []step{open(""), everyPoleApproves(1), decide(false, "trop tôt"), approve("oiseaux", 101)},
			want{status: PreAdherent, promotion: Refused, positions: allApprove, refused: ErrNoOpenPromotion}},
		{"one decision per promotion", PreAdherent, []step{open(""), everyPoleApproves(1), decide(true, ""), decide(false, "no")},
			want{status: Adherent, promotion: Promoted, positions: allApprove, refused: ErrNoOpenPromotion}},
		{"an adherent withdraws", Adherent, []step{withdraw("a cessé son activité")},
			want{status: Withdrawn}},
		{"a pre-adherent withdraws", PreAdherent, []step{withdraw("")},
			want{status: Withdrawn}},
		{"a withdrawal closes an open promotion as refused", PreAdherent, []step{open(""), approve("oiseaux", 1), withdraw("")},
			want{status: Withdrawn, promotion: Refused, positions: map[string]bool{"oiseaux": true}}},
		{"a structure withdraws once", Withdrawn, []step{withdraw("")},
			want{status: Withdrawn, refused: ErrAlreadyWithdrawn}},
		{"a withdrawn structure comes back as a pre-adherent only", Withdrawn, []step{readmit()},
			want{status: PreAdherent}},
		{"and must be promoted again to be an adherent", Withdrawn, []step{readmit(), open(""), everyPoleApproves(301), decide(true, "")},
			want{status: Adherent, promotion: Promoted, positions: allApprove}},
		{"only a withdrawn structure is re-admitted", Adherent, []step{readmit()},
			want{status: Adherent, refused: ErrNotWithdrawn}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			m := &Membership{Status: r.from}
			var err error
			for i, s := range r.steps {
				if err = s(m); err != nil && i < len(r.steps)-1 {
					t.Fatalf("step %d refused: %v", i+1, err)
				}
			}
			if !errors.Is(err, r.want.refused) || (err == nil) != (r.want.refused == nil) {
				t.Fatalf("last step: %v, want %v", err, r.want.refused)
			}
			if m.Status != r.want.status {
				t.Errorf("status %s, want %s", m.Status, r.want.status)
			}
			if r.want.promotion == 0 {
				if m.Promotion != nil {
					t.Errorf("promotion %s, want none", m.Promotion.State)
				}
				return
			}
			if m.Promotion == nil || m.Promotion.State != r.want.promotion {
				t.Fatalf("promotion %+v, want %s", m.Promotion, r.want.promotion)
			}
			got := map[string]bool{}
			for _, p := range m.Promotion.Positions {
				if _, twice := got[p.Pole]; twice {
					t.Errorf("pôle %s has two positions", p.Pole)
				}
				got[p.Pole] = p.Approves
			}
			if !reflect.DeepEqual(got, r.want.positions) {
				t.Errorf("positions %v, want %v", got, r.want.positions)
			}
		})
	}
}

// Each status change is one entry of the history, saying from what, to
// what, by whom and why; a refusal is recorded as pre-adherent to
// pre-adherent.
func TestChangesAreHistory(t *testing.T) {
	m := &Membership{}
	var changes []Change
	add := func(c Change, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, c)
	}
	add(m.Enter(at(0), "operator:local", "imported"))
	if err := m.Open(at(1), "dreal", ""); err != nil {
		t.Fatal(err)
	}
	add(m.Decide(false, at(2), "dreal", "  trop tôt : aucune donnée versée "))
	if err := m.Open(at(3), "dreal", ""); err != nil {
		t.Fatal(err)
	}
	add(m.Decide(true, at(4), "dreal", "avis favorable du comité technique"))
	add(m.Withdraw(at(5), "dreal", "dissoute"))
	add(m.Readmit(at(6), "dreal", "recréée"))
	want := []Change{
		{At: at(0), From: None, To: PreAdherent, By: "operator:local", Remarks: "imported"},
		{At: at(2), From: PreAdherent, To: PreAdherent, By: "dreal", Remarks: "trop tôt : aucune donnée versée"},
		{At: at(4), From: PreAdherent, To: Adherent, By: "dreal", Remarks: "avis favorable du comité technique"},
		{At: at(5), From: Adherent, To: Withdrawn, By: "dreal", Remarks: "dissoute"},
		{At: at(6), From: Withdrawn, To: PreAdherent, By: "dreal", Remarks: "recréée"},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("history\n%+v\nwant\n%+v", changes, want)
	}
}

// A promotion collects each pôle's position before the administrator
// decides (DESIGN.md, Membership): while some pôle is silent, the
// decision needs remarks of MinSilentRemarks characters, and the refusal
// names the silent pôles; the decision keeps which pôles were silent.
func TestADecisionAnswersForEverySilentPole(t *testing.T) {
	const enough = "relancés deux fois, sans réponse"
	for _, c := range []struct {
		name    string
		steps   []step
		promote bool
		remarks string
		refused bool
		names   []string // in the refusal
		silent  []string // kept with the decision
	}{
		{"every pôle has spoken: no remarks needed", []step{everyPoleApproves(1)}, true, "", false, nil, nil},
		{"no pôle has spoken", nil, true, "", true, Poles, nil},
		{"two are silent", []step{approve("flore", 1), approve("invertebres", 1), approve("mammiferes", 1), object("oiseaux", 2, "données non versées")},
			true, "", true, []string{"reptiles_amphibiens", "poissons", "objection of oiseaux"}, nil},
		{"19 characters are not enough", []step{approve("flore", 1)}, true, "abcdefghij klmnopqrs", true, []string{"poissons", "20 characters", "19 characters given"}, nil},
		{"spaces and zero-width characters do not count", []step{approve("flore", 1)}, true, "a b c d e f g h i j\u200b\u200b\u200b k l m n o p q r s", true, []string{"19 characters given"}, nil},
		{"20 characters are", []step{approve("flore", 1)}, true, "abcdefghij klmnopqrst", false, nil,
			[]string{"invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}},
		{"a refusal while one is silent", []step{approve("flore", 1), approve("invertebres", 1), approve("mammiferes", 1), approve("oiseaux", 1), approve("poissons", 1)},
			false, "trop tôt", true, []string{"refusal", "reptiles_amphibiens"}, nil},
		{"a refusal that says why in full", []step{approve("flore", 1), approve("invertebres", 1), approve("mammiferes", 1), approve("oiseaux", 1), approve("poissons", 1)},
			false, enough, false, nil, []string{"reptiles_amphibiens"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &Membership{Status: PreAdherent}
			for _, s := range append([]step{open("")}, c.steps...) {
				if err := s(m); err != nil {
					t.Fatal(err)
				}
			}
			_, err := m.Decide(c.promote, at(100), "dreal", c.remarks)
			if c.refused {
				if !errors.Is(err, ErrRemarksRequired) {
					t.Fatalf("decided: %v", err)
				}
				for _, n := range c.names {
					if !strings.Contains(err.Error(), n) {
						t.Errorf("the refusal %q does not name %s", err, n)
					}
				}
				if m.Promotion.State != Open || m.Promotion.SilentAtDecision != nil {
					t.Errorf("a refused decision changed the promotion: %+v", m.Promotion)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Promotion.SilentAtDecision, c.silent) {
				t.Errorf("silent at the decision: %v, want %v", m.Promotion.SilentAtDecision, c.silent)
			}
		})
	}
}

func TestPromotionShowsEveryPole(t *testing.T) {
	m := &Membership{Status: PreAdherent}
	_ = m.Open(at(0), "dreal", "")
	_ = approve("oiseaux", 1)(m)
	_ = object("flore", 2, "aucune donnée")(m)
	_ = object("poissons", 3, "hors périmètre")(m)
	if got := strings.Join(m.Promotion.Silent(), ","); got != "invertebres,mammiferes,reptiles_amphibiens" {
		t.Errorf("silent pôles %s", got)
	}
	obj := m.Promotion.Objections()
	if len(obj) != 2 || obj[0].Pole != "flore" || obj[1].Pole != "poissons" || obj[0].Argument != "aucune donnée" {
		t.Errorf("objections %+v", obj)
	}
}

func TestProfileChecked(t *testing.T) {
	ok := Profile{Name: " Faunae ", Type: "bureau d'études", Poles: []string{"oiseaux", " Flore", "oiseaux"},
		Departements: []string{"34", "09"}, Contact: Contact{Name: "Jeanne", Email: "jeanne@faunae.fr", Phone: "+33 4 67 00 00 00"},
		ScopeWKT: "POLYGON((700000 6200000, 720000 6200000, 720000 6220000, 700000 6220000, 700000 6200000))"}
	got, bad := ok.Checked(true)
	if len(bad) > 0 {
		t.Fatalf("a good profile refused: %v", bad)
	}
	if got.Name != "Faunae" || strings.Join(got.Poles, ",") != "flore,oiseaux" || strings.Join(got.Departements, ",") != "09,34" ||
		!strings.HasPrefix(got.ScopeWKT, "MULTIPOLYGON") {
		t.Errorf("cleaned: %+v", got)
	}
	if _, bad := (Profile{Name: "Faunae"}).Checked(false); len(bad) > 0 {
		t.Errorf("an imported structure needs no type: %v", bad)
	}

	rows := []struct {
		name   string
		change func(p *Profile)
		field  string
	}{
		{"a name is required", func(p *Profile) { p.Name = "  " }, "name"},
		{"a name is one line", func(p *Profile) { p.Name = "Faunae\nSARL" }, "name"},
		{"a name is bounded", func(p *Profile) { p.Name = strings.Repeat("a", MaxName+1) }, "name"},
		{"a type is required for a new structure", func(p *Profile) { p.Type = "" }, "type"},
		{"pôle codes are the six", func(p *Profile) { p.Poles = []string{"oiseaux", "lichens"} }, "poles[1]"},
		{"a pôle is named by its code, not its title", func(p *Profile) { p.Poles = []string{"Flore et fonge"} }, "poles[0]"},
		{"départements are Occitanie's", func(p *Profile) { p.Departements = []string{"31", "13"} }, "departements[1]"},
		{"a département code has its leading zero", func(p *Profile) { p.Departements = []string{"9"} }, "departements[0]"},
		{"Corsica is not in Occitanie", func(p *Profile) { p.Departements = []string{"2A"} }, "departements[0]"},
		{"an e-mail is an address", func(p *Profile) { p.Contact.Email = "jeanne at faunae.fr" }, "contact.email"},
		{"an e-mail carries no display name", func(p *Profile) { p.Contact.Email = "Jeanne <jeanne@faunae.fr>" }, "contact.email"},
		{"a phone is a number", func(p *Profile) { p.Contact.Phone = "call me" }, "contact.phone"},
		{"the scope geometry is WKT", func(p *Profile) { p.ScopeWKT = "POLYGON((0 0, 1 1" }, "scope_wkt"},
		{"the scope geometry is valid", func(p *Profile) {
			p.ScopeWKT = "POLYGON((700000 6200000, 720000 6220000, 720000 6200000, 700000 6220000, 700000 6200000))"
		}, "scope_wkt"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			p := ok
			p.Poles, p.Departements = append([]string(nil), ok.Poles...), append([]string(nil), ok.Departements...)
			r.change(&p)
			_, bad := p.Checked(true)
			if len(bad) != 1 || bad[0].Field != r.field {
				t.Fatalf("violations %v, want one on %s", bad, r.field)
			}
		})
	}
}
