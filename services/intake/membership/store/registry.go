package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/registry"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// Imported is what importing one registry entry did.
type Imported struct {
	ID string
	// Created: the entry was new; it entered the registry as a
	// pre-adherent. Updated: its name, date of request or remarks
	// changed. Neither: it was already as the file says.
	Created, Updated bool
}

// Import records one registry entry, keyed by its number: created once,
// then updated from the file. The status of a structure already in the
// registry is never touched: an adherent imported again from an old list
// stays an adherent. A new structure's entry in the history is the
// caller's (with the rule's Change).
func Import(ctx context.Context, tx pgx.Tx, e registry.Entry, at time.Time) (Imported, error) {
	var r Imported
	// xmax = 0 tells a row this statement inserted from one it updated.
	err := tx.QueryRow(ctx, `INSERT INTO intake.structure AS s (id, registry_id, name, status, requested_at, remarks, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (registry_id) DO UPDATE SET name = excluded.name, requested_at = excluded.requested_at,
			remarks = excluded.remarks, updated_at = excluded.updated_at
		WHERE (s.name, s.requested_at, s.remarks) IS DISTINCT FROM (excluded.name, excluded.requested_at, excluded.remarks)
		RETURNING id, xmax = 0`,
		NewID(), e.RegistryID, e.Name, rule.PreAdherent.String(), nullTime(e.RequestedAt), e.Remarks, at).Scan(&r.ID, &r.Created)
	switch {
	case err == nil:
		r.Updated = !r.Created
		return r, nil
	case !pg.IsNoRows(err):
		return r, fmt.Errorf("store: import id_adher %s (line %d): %w", e.RegistryID, e.Line, err)
	}
	// Already as the file says: nothing written, nothing returned.
	err = tx.QueryRow(ctx, `SELECT id FROM intake.structure WHERE registry_id = $1`, e.RegistryID).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("store: import id_adher %s (line %d): %w", e.RegistryID, e.Line, err)
	}
	return r, nil
}
