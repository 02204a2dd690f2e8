package sensitivity

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
)

// Import replaces the rules of referential name in oc_dat.sensibilite_regle,
// resolving each cd_nom to its cd_ref through oc_dat.taxon.
func Import(ctx context.Context, tx pgx.Tx, name string, rules []Rule) error {
	if _, err := tx.Exec(ctx, `DELETE FROM oc_dat.sensibilite_regle WHERE referentiel = $1`, name); err != nil {
		return fmt.Errorf("sensitivity.Import: %w", err)
	}
	rows := make([][]any, len(rules))
	seen := make(map[int]int, len(rules))
	for i, r := range rules {
		if prev, dup := seen[r.ID]; dup {
			return fmt.Errorf("sensitivity.Import: line %d: rule id %d already on line %d", r.Line, r.ID, prev)
		}
		seen[r.ID] = r.Line
		rows[i] = []any{name, r.ID, r.CdNom, r.CdNom, r.CdDept, nullInt(r.Duree), r.Codage, nullText(r.Autre),
			nullInt(r.CdSL), nullText(r.StatutBiologique), nullText(Comportement(r.StatutBiologique)), nullText(r.NomCite)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"oc_dat", "sensibilite_regle"},
		[]string{"referentiel", "id", "cd_nom", "cd_ref", "cd_dept", "duree", "codage", "autre", "cd_sl", "statut_biologique", "comportement", "nom_cite"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("sensitivity.Import: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		UPDATE oc_dat.sensibilite_regle r SET cd_ref = t.cd_ref
		FROM oc_dat.taxon t
		WHERE r.referentiel = $1 AND t.cd_nom = r.cd_nom AND r.cd_ref <> t.cd_ref`, name); err != nil {
		return fmt.Errorf("sensitivity.Import: cd_ref: %w", err)
	}
	return nil
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Options name the referential applied and fix the day of the attribution.
type Options struct {
	Name    string    // recorded in sensi_referentiel
	Version string    // recorded in sensi_version_referentiel
	Now     time.Time // attribution time; durations count in years up to Now's year
}

// Result tells what Apply did.
type Result struct {
	Referential  string        `json:"referential"`
	Version      string        `json:"version,omitempty"` // recorded in sensi_version_referentiel
	AttributedAt time.Time     `json:"attributed_at"`     // recorded in sensi_date_attribution of the rows changed
	Rules        int           `json:"rules"`
	Observations int64         `json:"observations"`
	Changed      int64         `json:"changed"`
	Manual       int64         `json:"manual"` // left alone: level set by hand
	Levels       map[int]int64 `json:"levels"` // observations per level after the run
}

// Apply imports the rules and sets the sensitivity level of every
// observation whose level was not set by hand, in one transaction. Rows whose
// level and referential do not change are not rewritten, so applying the same
// referential twice changes nothing the second time.
func Apply(ctx context.Context, db pg.Beginner, rules []Rule, opts Options) (Result, error) {
	if opts.Name == "" {
		return Result{}, fmt.Errorf("sensitivity.Apply: the referential needs a name")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	res := Result{Referential: opts.Name, Version: opts.Version, AttributedAt: opts.Now, Rules: len(rules), Levels: map[int]int64{}}
	err := pg.InTx(ctx, db, func(tx pgx.Tx) error {
		if err := Import(ctx, tx, opts.Name, rules); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			WITH computed AS (
				SELECT o.id, COALESCE((
					SELECT max(r.codage) FROM oc_dat.sensibilite_regle r
					WHERE r.referentiel = $1 AND r.cd_ref = o.cd_ref
					  AND r.cd_dept = ANY (o.departements)
					  AND (r.duree IS NULL OR extract(year FROM o.date_fin)::int + r.duree >= $2)
					  AND (r.statut_biologique IS NULL OR r.statut_biologique = o.occ_statut_biologique
					       OR r.comportement = o.occ_comportement)), 0) AS niveau
				FROM oc_dat.observation o
				WHERE NOT o.sensi_manuelle)
			UPDATE oc_dat.observation o
			SET sensi_niveau = c.niveau, sensi_date_attribution = $3,
			    sensi_referentiel = $1, sensi_version_referentiel = $4
			FROM computed c
			WHERE c.id = o.id AND (o.sensi_niveau <> c.niveau
			   OR o.sensi_referentiel IS DISTINCT FROM $1
			   OR o.sensi_version_referentiel IS DISTINCT FROM $4)`,
			opts.Name, opts.Now.Year(), opts.Now, nullText(opts.Version))
		if err != nil {
			return fmt.Errorf("sensitivity.Apply: %w", err)
		}
		res.Changed = tag.RowsAffected()
		rows, err := tx.Query(ctx, `SELECT sensi_niveau, sensi_manuelle, count(*) FROM oc_dat.observation GROUP BY 1, 2`)
		if err != nil {
			return fmt.Errorf("sensitivity.Apply: count: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var level int
			var manual bool
			var n int64
			if err := rows.Scan(&level, &manual, &n); err != nil {
				return err
			}
			res.Levels[level] += n
			res.Observations += n
			if manual {
				res.Manual += n
			}
		}
		return rows.Err()
	})
	return res, err
}
