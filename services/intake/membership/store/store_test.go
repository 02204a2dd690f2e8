package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/services/intake/membership/registry"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
	"sinp.occitanie.fr/services/intake/migrations"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newDB(t *testing.T) *pgxpool.Pool {
	return pgtest.NewDB(t, migrations.Intake)
}

func tx(t *testing.T, db *pgxpool.Pool, fn func(tx pgx.Tx) error) {
	t.Helper()
	if err := pg.InTx(context.Background(), db, fn); err != nil {
		t.Fatal(err)
	}
}

func insert(t *testing.T, db *pgxpool.Pool, s *store.Structure) *store.Structure {
	t.Helper()
	if s.Status == rule.None {
		s.Status = rule.PreAdherent
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = t0
	}
	tx(t, db, func(tx pgx.Tx) error { return store.Insert(context.Background(), tx, s) })
	return s
}

func TestAStructureReadsBackAsWritten(t *testing.T) {
	db, ctx := newDB(t), context.Background()
	s := insert(t, db, &store.Structure{RegistryID: "6", Profile: rule.Profile{Name: "Faunae", Type: "bureau d'études",
		Poles: []string{"flore", "oiseaux"}, Departements: []string{"31", "34"}, ScopeWKT: "MULTIPOLYGON(((0 0,1 0,1 1,0 0)))",
		Contact: rule.Contact{Name: "Jeanne", Email: "jeanne@faunae.fr", Phone: "04 67 00 00 00"}},
		RequestedAt: time.Date(2019, 4, 29, 0, 0, 0, 0, time.UTC), Remarks: "Demande l'avis des pôles"})
	tx(t, db, func(tx pgx.Tx) error {
		return store.AddChange(ctx, tx, s.ID, rule.Change{At: t0, From: rule.None, To: rule.PreAdherent, By: "administrator:dreal-1", Remarks: "created"})
	})
	got, err := store.Get(ctx, db, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.History = []rule.Change{{At: t0, From: rule.None, To: rule.PreAdherent, By: "administrator:dreal-1", Remarks: "created"}}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, s)
	}
	if _, err := store.Get(ctx, db, "st-nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing structure: %v", err)
	}
	name, status, err := store.Member(ctx, db, s.ID)
	if err != nil || name != "Faunae" || status != rule.PreAdherent {
		t.Errorf("member: %s %s %v", name, status, err)
	}
}

func TestARegistryNumberIsOneStructure(t *testing.T) {
	db := newDB(t)
	insert(t, db, &store.Structure{RegistryID: "6", Profile: rule.Profile{Name: "Faunae"}})
	err := pg.InTx(context.Background(), db, func(tx pgx.Tx) error {
		return store.Insert(context.Background(), tx, &store.Structure{RegistryID: "6", Profile: rule.Profile{Name: "Faunae bis"}, Membership: rule.Membership{Status: rule.PreAdherent}, CreatedAt: t0})
	})
	if !errors.Is(err, store.ErrRegistryIDTaken) {
		t.Fatalf("a second structure with number 6: %v", err)
	}
	// Structures created by hand have no number, and many may have none.
	insert(t, db, &store.Structure{Profile: rule.Profile{Name: "A"}})
	insert(t, db, &store.Structure{Profile: rule.Profile{Name: "B"}})
}

// A promotion and its positions: revised in place, one per pôle, and the
// table refuses what the rule forbids (two open, an objection unargued).
func TestPromotionsAndPositions(t *testing.T) {
	db, ctx := newDB(t), context.Background()
	s := insert(t, db, &store.Structure{Profile: rule.Profile{Name: "Ecosphere"}})
	tx(t, db, func(tx pgx.Tx) error {
		st, err := store.Lock(ctx, tx, s.ID)
		if err != nil {
			return err
		}
		if err := st.Open(t0, "dreal", "proposée en CT"); err != nil {
			return err
		}
		if err := store.OpenPromotion(ctx, tx, st); err != nil {
			return err
		}
		for i, pos := range []rule.Position{
			{Pole: "oiseaux", Argument: "pas de données", Reviewer: "rev-o", At: t0.Add(time.Hour)},
			{Pole: "flore", Approves: true, Reviewer: "rev-f", At: t0.Add(2 * time.Hour)},
			{Pole: "oiseaux", Approves: true, Reviewer: "rev-o2", At: t0.Add(3 * time.Hour)},
		} {
			if err := store.SavePosition(ctx, tx, st.PromotionID, pos); err != nil {
				return fmt.Errorf("position %d: %w", i, err)
			}
		}
		return nil
	})
	got, err := store.Get(ctx, db, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Promotion
	if p == nil || p.State != rule.Open || p.Remarks != "proposée en CT" || len(p.Positions) != 2 {
		t.Fatalf("promotion %+v", p)
	}
	if o, _ := p.Position("oiseaux"); !o.Approves || o.Reviewer != "rev-o2" || !o.At.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("the revised position: %+v", o)
	}

	err = pg.InTx(ctx, db, func(tx pgx.Tx) error {
		again := &store.Structure{ID: s.ID, Membership: rule.Membership{Promotion: &rule.Promotion{State: rule.Open, OpenedAt: t0, OpenedBy: "x"}}}
		return store.OpenPromotion(ctx, tx, again)
	})
	if err == nil {
		t.Error("a second open promotion was stored")
	}
	err = pg.InTx(ctx, db, func(tx pgx.Tx) error {
		return store.SavePosition(ctx, tx, got.PromotionID, rule.Position{Pole: "poissons", Reviewer: "rev-p", At: t0})
	})
	if err == nil {
		t.Error("an objection without argument was stored")
	}

	tx(t, db, func(tx pgx.Tx) error {
		st, err := store.Lock(ctx, tx, s.ID)
		if err != nil {
			return err
		}
		c, err := st.Decide(true, t0.Add(24*time.Hour), "dreal", "les autres pôles relancés sans réponse")
		if err != nil {
			return err
		}
		if err := store.SavePromotion(ctx, tx, st); err != nil {
			return err
		}
		if err := store.SaveStatus(ctx, tx, st, c.At); err != nil {
			return err
		}
		return store.AddChange(ctx, tx, st.ID, c)
	})
	got, _ = store.Get(ctx, db, s.ID)
	if got.Status != rule.Adherent || !got.AdherentSince.Equal(t0.Add(24*time.Hour)) || got.Promotion.State != rule.Promoted ||
		!got.Promotion.DecidedAt.Equal(t0.Add(24*time.Hour)) || len(got.History) != 1 || got.History[0].To != rule.Adherent ||
		strings.Join(got.Promotion.SilentAtDecision, ",") != strings.Join(got.Promotion.Silent(), ",") || len(got.Promotion.SilentAtDecision) != 4 {
		t.Errorf("after the decision: %+v %+v", got, got.Promotion)
	}
	adherents, err := store.Adherents(ctx, db)
	if err != nil || len(adherents) != 1 || adherents[0].ID != s.ID {
		t.Errorf("adherents %v %v", adherents, err)
	}
}

func TestListingsPageByName(t *testing.T) {
	db, ctx := newDB(t), context.Background()
	names := []string{"Ecosphere", "ADRET Environnement", "Faunae", "CAREX", "Artifex", "NYMPHALIS", "SEGED"}
	for i, n := range names {
		st := rule.PreAdherent
		if i%3 == 0 {
			st = rule.Withdrawn
		}
		insert(t, db, &store.Structure{Profile: rule.Profile{Name: n}, Membership: rule.Membership{Status: st}})
	}
	var got []string
	f := store.Filter{Limit: 3}
	for pages := 0; ; pages++ {
		list, more, err := store.List(ctx, db, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			got = append(got, s.Name)
		}
		if !more {
			break
		}
		last := list[len(list)-1]
		f.After = store.Cursor{Name: last.Name, ID: last.ID}
		if pages > 5 {
			t.Fatal("listing does not end")
		}
	}
	want := []string{"ADRET Environnement", "Artifex", "CAREX", "Ecosphere", "Faunae", "NYMPHALIS", "SEGED"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listing %v, want %v", got, want)
	}
	withdrawn, _, err := store.List(ctx, db, store.Filter{Status: rule.Withdrawn})
	if err != nil || len(withdrawn) != 3 {
		t.Errorf("withdrawn: %d %v", len(withdrawn), err)
	}
}

// An import creates once, updates what the file changed, and never
// touches a status.
func TestImportIsKeyedByRegistryNumber(t *testing.T) {
	db, ctx := newDB(t), context.Background()
	e := registry.Entry{Line: 2, RegistryID: "13", Name: "CRB Environnement", RequestedAt: time.Date(2019, 5, 16, 0, 0, 0, 0, time.UTC), Remarks: "Transmettent des jeux de données"}
	var first store.Imported
	tx(t, db, func(tx pgx.Tx) (err error) { first, err = store.Import(ctx, tx, e, t0); return err })
	if !first.Created || first.Updated || first.ID == "" {
		t.Fatalf("first import: %+v", first)
	}
	var again store.Imported
	tx(t, db, func(tx pgx.Tx) (err error) { again, err = store.Import(ctx, tx, e, t0.Add(time.Hour)); return err })
	if again != (store.Imported{ID: first.ID}) {
		t.Fatalf("the same entry again: %+v", again)
	}
	s, _ := store.Get(ctx, db, first.ID)
	if !s.UpdatedAt.Equal(t0) {
		t.Errorf("an unchanged entry was rewritten at %s", s.UpdatedAt)
	}

	tx(t, db, func(tx pgx.Tx) error {
		st, _ := store.Lock(ctx, tx, first.ID)
		st.Status = rule.Adherent
		return store.SaveStatus(ctx, tx, st, t0)
	})
	e.Remarks = "Adhérent depuis 2021"
	tx(t, db, func(tx pgx.Tx) (err error) { again, err = store.Import(ctx, tx, e, t0.Add(2*time.Hour)); return err })
	if again != (store.Imported{ID: first.ID, Updated: true}) {
		t.Fatalf("the entry changed: %+v", again)
	}
	s, _ = store.Get(ctx, db, first.ID)
	if s.Remarks != "Adhérent depuis 2021" || s.Status != rule.Adherent || s.RegistryID != "13" {
		t.Errorf("after the update: %+v", s)
	}
}
