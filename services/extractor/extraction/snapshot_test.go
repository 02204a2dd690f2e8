package extraction

import (
	"context"
	"path/filepath"
	"testing"

	"sinp.occitanie.fr/observations/storetest"
)

// The observations attached to an object without a geometry are read on a
// second connection, in the first one's snapshot: a change committed once
// the selection is open shows in neither kind of row.
func TestAttachedRowsAreReadInTheSelectionsSnapshot(t *testing.T) {
	db := storetest.Pool(t)
	ctx := context.Background()
	var attached, located string
	if err := db.QueryRow(ctx, `SELECT
		(SELECT id_sinp_occtax::text FROM oc_dat.v_extract_source WHERE geom IS NULL AND rattachement = 'commune'
			AND communes && ARRAY['31555'] AND sensi_niveau = 0 AND ds_publique = 'Pu' ORDER BY id LIMIT 1),
		(SELECT id_sinp_occtax::text FROM oc_dat.v_extract_source WHERE geom IS NOT NULL
			AND communes && ARRAY['31555'] AND sensi_niveau = 0 AND ds_publique = 'Pu' ORDER BY id LIMIT 1)`).Scan(&attached, &located); err != nil {
		t.Fatal(err)
	}
	const later = "écrit après l'ouverture de la sélection"
	afterSnapshot = func() {
		if _, err := db.Exec(ctx, `UPDATE oc_dat.observation SET commentaire = $1 WHERE id_sinp_occtax::text = ANY($2)`,
			later, []string{attached, located}); err != nil {
			t.Error(err)
		}
	}
	defer func() { afterSnapshot = nil }()
	res, dir := extract(t, db, Spec{Areas: []AreaRef{{KindCommune, "31555"}}})
	seen := map[string]string{}
	for _, d := range byFile(res, dir, F1) {
		for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, d.ArchiveName), "")) {
			seen[r.fields["identifiantPermanent"]] = r.fields["commentaire"]
		}
	}
	for _, id := range []string{attached, located} {
		c, ok := seen[id]
		if !ok {
			t.Fatalf("observation %s is not in the extract", id)
		}
		if c == later {
			t.Errorf("observation %s shows a change committed after the selection's snapshot", id)
		}
	}
	var now string
	if err := db.QueryRow(ctx, `SELECT commentaire FROM oc_dat.observation WHERE id_sinp_occtax::text = $1`, attached).Scan(&now); err != nil || now != later {
		t.Fatalf("the change was not committed (%q, %v): the test proves nothing", now, err)
	}
}
