package app

import (
	"context"

	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

// Review reads a request's review and what the rule says of it now.
func (s *Service) Review(ctx context.Context, reference string) (*store.Review, rule.Outcome, error) {
	r, err := store.Get(ctx, s.DB, reference)
	if err != nil {
		return nil, rule.Outcome{}, err
	}
	return r, rule.Decide(r.Policy, r.Facts(), s.now()), nil
}

// QueueItem is one pôle's review of one request.
type QueueItem struct {
	Review  *store.Review
	Pole    string
	Outcome rule.Outcome
}

// Queue lists a pôle's reviews (all pôles when empty), newest first, in a
// state (nil: any), limit at a time after the cursor; it returns the
// cursor of the next page (zero: none).
func (s *Service) Queue(ctx context.Context, pole string, state *rule.State, after store.QueueEntry, limit int) ([]QueueItem, store.QueueEntry, error) {
	entries, err := store.Queue(ctx, s.DB, pole, state, after, limit+1)
	if err != nil {
		return nil, store.QueueEntry{}, err
	}
	var next store.QueueEntry
	if len(entries) > limit {
		entries, next = entries[:limit], entries[limit-1]
	}
	now := s.now()
	items := make([]QueueItem, 0, len(entries))
	for _, e := range entries {
		r, err := store.Get(ctx, s.DB, e.Reference)
		if err != nil {
			return nil, store.QueueEntry{}, err
		}
		items = append(items, QueueItem{Review: r, Pole: e.Pole, Outcome: rule.Decide(r.Policy, r.Facts(), now)})
	}
	return items, next, nil
}
