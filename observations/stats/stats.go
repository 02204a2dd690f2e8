// Package stats reports the loading state of the observation store:
// observations per pôle, per source dataset, per geometry type and per
// sensitivity level.
package stats

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Count is a number of observations for one value of a dimension.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
	Count int64  `json:"count"`
}

// Stats is the loading state of the store.
type Stats struct {
	Observations  int64   `json:"observations"`
	Georeferenced int64   `json:"georeferenced"`
	Private       int64   `json:"private"` // ds_publique = 'Pr'
	ByPole        []Count `json:"by_pole"`
	ByGeometry    []Count `json:"by_geometry"`
	ByAttachment  []Count `json:"by_attachment"` // observations without geometry, by kind of object
	BySensitivity []Count `json:"by_sensitivity"`
	ByDiffusion   []Count `json:"by_diffusion_level"` // NIV_PRECIS of private data
	ByDataset     []Count `json:"by_dataset"`
}

// Compute reads the statistics from the store's views.
func Compute(ctx context.Context, db *pgxpool.Pool) (*Stats, error) {
	s := &Stats{}
	err := pgx.BeginTxFunc(ctx, db, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE rattachement IS NULL), count(*) FILTER (WHERE ds_publique = 'Pr')
			FROM oc_dat.observation`).Scan(&s.Observations, &s.Georeferenced, &s.Private); err != nil {
			return err
		}
		var err error
		if s.ByPole, err = counts(ctx, tx, `
			SELECT p.code, p.nom, count(o.id) FROM oc_dat.pole p LEFT JOIN oc_dat.observation o ON o.pole = p.code
			GROUP BY p.code, p.nom, p.ordre ORDER BY p.ordre`); err != nil {
			return err
		}
		if s.ByGeometry, err = counts(ctx, tx, `
			SELECT k, '', count(*) FROM (
				SELECT CASE ST_Dimension(g.geom) WHEN 0 THEN 'points' WHEN 1 THEN 'lignes' WHEN 2 THEN 'polygones' ELSE 'obj_geograph' END AS k
				FROM oc_dat.observation o LEFT JOIN oc_dat.geo g ON g.id_observation = o.id) s
			GROUP BY k ORDER BY array_position(ARRAY['points', 'lignes', 'polygones', 'obj_geograph'], k)`); err != nil {
			return err
		}
		if s.ByAttachment, err = counts(ctx, tx, `
			SELECT rattachement, '', count(*) FROM oc_dat.observation WHERE rattachement IS NOT NULL
			GROUP BY 1 ORDER BY array_position(ARRAY['commune', 'maille10', 'departement', 'espace_naturel'], rattachement)`); err != nil {
			return err
		}
		if s.BySensitivity, err = counts(ctx, tx, `
			SELECT o.sensi_niveau::text, coalesce(n.label, ''), count(*) FROM oc_dat.observation o
			LEFT JOIN oc_dat.nomenclature n ON n.type = 'SENSIBILITE' AND n.code = o.sensi_niveau::text
			GROUP BY 1, 2 ORDER BY 1`); err != nil {
			return err
		}
		if s.ByDiffusion, err = counts(ctx, tx, `
			SELECT coalesce(o.diffusion_niveau_precision, '-'), coalesce(n.label, ''), count(*) FROM oc_dat.observation o
			LEFT JOIN oc_dat.nomenclature n ON n.type = 'NIV_PRECIS' AND n.code = o.diffusion_niveau_precision
			WHERE o.ds_publique = 'Pr' GROUP BY 1, 2 ORDER BY 1`); err != nil {
			return err
		}
		s.ByDataset, err = counts(ctx, tx, `
			SELECT o.jdd_id::text, coalesce(j.libelle, ''), count(*) FROM oc_dat.observation o
			LEFT JOIN oc_dat.jeu_donnees j ON j.id = o.jdd_id
			GROUP BY o.jdd_id, j.libelle ORDER BY 3 DESC, o.jdd_id`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stats.Compute: %w", err)
	}
	return s, nil
}

func counts(ctx context.Context, tx pgx.Tx, sql string) ([]Count, error) {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Count, error) {
		var c Count
		return c, r.Scan(&c.Key, &c.Label, &c.Count)
	})
}

// Print writes the statistics as tables; at most maxDatasets datasets are
// listed (the largest), 0 for all.
func (s *Stats) Print(w io.Writer, maxDatasets int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pct := func(n int64) string {
		if s.Observations == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(s.Observations))
	}
	fmt.Fprintf(tw, "observations\t%12d\t\n", s.Observations)
	fmt.Fprintf(tw, "georeferenced\t%12d\t%7s\n", s.Georeferenced, pct(s.Georeferenced))
	fmt.Fprintf(tw, "private (Pr)\t%12d\t%7s\n", s.Private, pct(s.Private))
	section := func(title string, cs []Count, limit int) {
		fmt.Fprintf(tw, "\t\t\n%s\t\t\n", title)
		for i, c := range cs {
			if limit > 0 && i == limit {
				fmt.Fprintf(tw, "  ... %d more\t\t\n", len(cs)-limit)
				break
			}
			name := c.Key
			if c.Label != "" {
				name += " " + truncate(c.Label, 50)
			}
			fmt.Fprintf(tw, "  %s\t%12d\t%7s\n", name, c.Count, pct(c.Count))
		}
	}
	section("per pôle", s.ByPole, 0)
	section("per geometry type", s.ByGeometry, 0)
	section("attached (no geometry), per object kind", s.ByAttachment, 0)
	section("per sensitivity level (SENSIBILITE)", s.BySensitivity, 0)
	section("private data per diffusion level (NIV_PRECIS)", s.ByDiffusion, 0)
	section(fmt.Sprintf("per source dataset (%d)", len(s.ByDataset)), s.ByDataset, maxDatasets)
	tw.Flush()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
