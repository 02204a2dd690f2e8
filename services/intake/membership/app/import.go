package app

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/registry"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// Imported is what an import did.
type Imported struct {
	Created, Updated int
	// Proposed are the structures the file proposes for promotion
	// (proposition = promotion), in the file's order.
	Proposed []ProposedStructure
}

// ProposedStructure is one structure the registry proposes to promote.
type ProposedStructure struct {
	ID, RegistryID, Name string
}

// Import loads the registry's CSV, all or nothing: a bad row refuses the
// file (*registry.Error naming each line and column). Each row is a
// structure keyed by its registry number, created once as a pre-adherent,
// then updated from the file: importing the same file again changes
// nothing. A structure entering the registry by import is no event (it
// receives what a non-adherent does); the proposition opens no promotion,
// it only says which ones the administrator may open.
func (s *Service) Import(ctx context.Context, by string, csv []byte) (Imported, error) {
	var out Imported
	now := s.now()
	entries, err := registry.Parse(bytes.NewReader(csv), now)
	if err != nil {
		return out, err
	}
	err = pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		out = Imported{}
		for _, e := range entries {
			r, err := store.Import(ctx, tx, e, now)
			if err != nil {
				return err
			}
			switch {
			case r.Created:
				out.Created++
				var m rule.Membership
				c, err := m.Enter(now, by, fmt.Sprintf("imported from the registry (id_adher %s)", e.RegistryID))
				if err != nil {
					return err
				}
				if err := store.AddChange(ctx, tx, r.ID, c); err != nil {
					return err
				}
			case r.Updated:
				out.Updated++
			}
			if e.Proposed {
				out.Proposed = append(out.Proposed, ProposedStructure{ID: r.ID, RegistryID: e.RegistryID, Name: e.Name})
			}
		}
		return nil
	})
	return out, err
}
