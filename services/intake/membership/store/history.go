package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// AddChange appends a status change to a structure's history.
func AddChange(ctx context.Context, tx pgx.Tx, structureID string, c rule.Change) error {
	from := ""
	if c.From != rule.None {
		from = c.From.String()
	}
	_, err := tx.Exec(ctx, `INSERT INTO intake.membership_change (structure_id, changed_at, from_status, to_status, changed_by, remarks)
		VALUES ($1, $2, $3, $4, $5, $6)`, structureID, c.At, from, c.To.String(), c.By, c.Remarks)
	if err != nil {
		return fmt.Errorf("store: history of %s: %w", structureID, err)
	}
	return nil
}

func history(ctx context.Context, q pg.Querier, structureID string) ([]rule.Change, error) {
	rows, err := q.Query(ctx, `SELECT changed_at, from_status, to_status, changed_by, remarks
		FROM intake.membership_change WHERE structure_id = $1 ORDER BY id`, structureID)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", structureID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rule.Change, error) {
		var c rule.Change
		var from, to string
		if err := row.Scan(&c.At, &from, &to, &c.By, &c.Remarks); err != nil {
			return c, err
		}
		c.At = c.At.UTC()
		var err error
		if from != "" {
			if c.From, err = rule.ParseStatus(from); err != nil {
				return c, err
			}
		}
		c.To, err = rule.ParseStatus(to)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", structureID, err)
	}
	return out, nil
}
