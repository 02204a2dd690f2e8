package app

import (
	"context"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// OpenPromotion starts the promotion of a pre-adherent. Its status does
// not change yet: no event.
func (s *Service) OpenPromotion(ctx context.Context, by, id, remarks string) (*store.Structure, error) {
	var st *store.Structure
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if st, err = store.Lock(ctx, tx, id); err != nil {
			return err
		}
		if err := st.Open(s.now(), by, remarks); err != nil {
			return err
		}
		return store.OpenPromotion(ctx, tx, st)
	})
	return st, err
}

// RecordPosition gives or revises a pôle's position on the open
// promotion. The API has checked that the reviewer speaks for that pôle.
func (s *Service) RecordPosition(ctx context.Context, id string, pos rule.Position) (*store.Structure, error) {
	var st *store.Structure
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if st, err = store.Lock(ctx, tx, id); err != nil {
			return err
		}
		pos.At = s.now()
		if err := st.Record(pos); err != nil {
			return err
		}
		p, _ := st.Promotion.Position(pos.Pole)
		return store.SavePosition(ctx, tx, st.PromotionID, p)
	})
	return st, err
}

// Decide ends the open promotion: promoted, the structure is an adherent;
// refused, it stays a pre-adherent. Either way the decision is in the
// history and announced (MembershipChanged, from pre-adherent to adherent
// or to pre-adherent again).
func (s *Service) Decide(ctx context.Context, by, id string, promote bool, remarks string) (*store.Structure, error) {
	var st *store.Structure
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if st, err = store.Lock(ctx, tx, id); err != nil {
			return err
		}
		c, err := st.Decide(promote, s.now(), by, remarks)
		if err != nil {
			return err
		}
		if err := store.SavePromotion(ctx, tx, st); err != nil {
			return err
		}
		return s.change(ctx, tx, st, c)
	})
	return st, err
}

// Withdraw ends a structure's membership; an open promotion closes as
// refused.
func (s *Service) Withdraw(ctx context.Context, by, id, remarks string) (*store.Structure, error) {
	var st *store.Structure
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if st, err = store.Lock(ctx, tx, id); err != nil {
			return err
		}
		wasOpen := st.Promotion != nil && st.Promotion.State == rule.Open
		c, err := st.Withdraw(s.now(), by, remarks)
		if err != nil {
			return err
		}
		if wasOpen {
			if err := store.SavePromotion(ctx, tx, st); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, st, c)
	})
	return st, err
}
