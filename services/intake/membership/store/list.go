package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// Cursor is where a page of a listing ends: listings are in name order,
// then id.
type Cursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

// Filter selects a listing's structures.
type Filter struct {
	// Status, when set, keeps structures of that status only.
	Status rule.Status
	// After starts the page after this structure.
	After Cursor
	Limit int
}

// List returns a page of structures with their current promotion (not
// their history), and whether more follow.
func List(ctx context.Context, q pg.Querier, f Filter) ([]*Structure, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	where, args := `WHERE (name, id) > ($1, $2)`, []any{f.After.Name, f.After.ID}
	if f.Status != rule.None {
		where += ` AND status = $3`
		args = append(args, f.Status.String())
	}
	args = append(args, f.Limit+1)
	rows, err := q.Query(ctx, `SELECT `+structureColumns+` FROM intake.structure `+where+
		fmt.Sprintf(` ORDER BY name, id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Structure, error) { return scanStructure(row) })
	if err != nil {
		return nil, false, fmt.Errorf("store: list: %w", err)
	}
	more := len(list) > f.Limit
	if more {
		list = list[:f.Limit]
	}
	if err := attachPromotions(ctx, q, list); err != nil {
		return nil, false, err
	}
	return list, more, nil
}

// Adherents are the structures that are adherents now, in name order: the
// list the platform publishes.
func Adherents(ctx context.Context, q pg.Querier) ([]*Structure, error) {
	rows, err := q.Query(ctx, `SELECT `+structureColumns+` FROM intake.structure WHERE status = 'adherent' ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: adherents: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Structure, error) { return scanStructure(row) })
	if err != nil {
		return nil, fmt.Errorf("store: adherents: %w", err)
	}
	return list, nil
}
