package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// OpenPromotion records the structure's promotion, just opened, as a new
// row and sets PromotionID to it.
func OpenPromotion(ctx context.Context, tx pgx.Tx, s *Structure) error {
	p := s.Promotion
	err := tx.QueryRow(ctx, `INSERT INTO intake.promotion (structure_id, state, opened_at, opened_by, remarks)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, s.ID, p.State.String(), p.OpenedAt, p.OpenedBy, p.Remarks).Scan(&s.PromotionID)
	if err != nil {
		return fmt.Errorf("store: promotion of %s: %w", s.ID, err)
	}
	return nil
}

// SavePromotion writes the state and decision of the structure's
// promotion. Positions are saved one by one with SavePosition.
func SavePromotion(ctx context.Context, tx pgx.Tx, s *Structure) error {
	p := s.Promotion
	silent := p.SilentAtDecision
	if silent == nil {
		silent = []string{}
	}
	_, err := tx.Exec(ctx, `UPDATE intake.promotion SET state = $2, decided_at = $3, decided_by = $4, decision_remarks = $5, silent_poles = $6
		WHERE id = $1`, s.PromotionID, p.State.String(), nullTime(p.DecidedAt), p.DecidedBy, p.DecisionRemarks, silent)
	if err != nil {
		return fmt.Errorf("store: promotion of %s: %w", s.ID, err)
	}
	return nil
}

// SavePosition records a pôle's position, replacing the one it gave
// before on the same promotion.
func SavePosition(ctx context.Context, tx pgx.Tx, promotionID int64, pos rule.Position) error {
	_, err := tx.Exec(ctx, `INSERT INTO intake.promotion_position (promotion_id, pole, approves, argument, reviewer, at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (promotion_id, pole) DO UPDATE SET approves = excluded.approves, argument = excluded.argument,
			reviewer = excluded.reviewer, at = excluded.at`,
		promotionID, pos.Pole, pos.Approves, pos.Argument, pos.Reviewer, pos.At)
	if err != nil {
		return fmt.Errorf("store: position of %s on promotion %d: %w", pos.Pole, promotionID, err)
	}
	return nil
}

// attachPromotions sets each structure's latest promotion, with its
// positions latest first, in two queries whatever the number of
// structures.
func attachPromotions(ctx context.Context, q pg.Querier, list []*Structure) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*Structure, len(list))
	ids := make([]string, len(list))
	for i, s := range list {
		byID[s.ID], ids[i] = s, s.ID
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (structure_id) structure_id, id, state, opened_at, opened_by, remarks,
			decided_at, decided_by, decision_remarks, silent_poles
		FROM intake.promotion WHERE structure_id = ANY($1) ORDER BY structure_id, id DESC`, ids)
	if err != nil {
		return fmt.Errorf("store: promotions: %w", err)
	}
	byPromotion := map[int64]*rule.Promotion{}
	var promotionIDs []int64
	for rows.Next() {
		var structureID, state string
		var id int64
		var decided *time.Time
		p := &rule.Promotion{}
		if err := rows.Scan(&structureID, &id, &state, &p.OpenedAt, &p.OpenedBy, &p.Remarks, &decided, &p.DecidedBy, &p.DecisionRemarks, &p.SilentAtDecision); err != nil {
			rows.Close()
			return fmt.Errorf("store: promotions: %w", err)
		}
		if p.State, err = rule.ParsePromotionState(state); err != nil {
			rows.Close()
			return err
		}
		p.OpenedAt, p.DecidedAt = p.OpenedAt.UTC(), deref(decided)
		if len(p.SilentAtDecision) == 0 {
			p.SilentAtDecision = nil
		}
		s := byID[structureID]
		s.Promotion, s.PromotionID = p, id
		byPromotion[id] = p
		promotionIDs = append(promotionIDs, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: promotions: %w", err)
	}
	if len(promotionIDs) == 0 {
		return nil
	}
	rows, err = q.Query(ctx, `SELECT promotion_id, pole, approves, argument, reviewer, at
		FROM intake.promotion_position WHERE promotion_id = ANY($1) ORDER BY promotion_id, at DESC, pole`, promotionIDs)
	if err != nil {
		return fmt.Errorf("store: positions: %w", err)
	}
	var id int64
	var pos rule.Position
	_, err = pgx.ForEachRow(rows, []any{&id, &pos.Pole, &pos.Approves, &pos.Argument, &pos.Reviewer, &pos.At}, func() error {
		pos.At = pos.At.UTC()
		p := byPromotion[id]
		p.Positions = append(p.Positions, pos)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: positions: %w", err)
	}
	return nil
}
