package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/text"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// NewStructure is a structure the administrator adds to the registry.
type NewStructure struct {
	rule.Profile
	RegistryID string
	// RequestedAt is when it asked to join (now when zero).
	RequestedAt time.Time
	Remarks     string
}

// Create adds a structure to the registry, as a pre-adherent (adherent
// comes by promotion only). Entering the registry is in its history but
// is no event: a pre-adherent receives what a non-adherent does.
func (s *Service) Create(ctx context.Context, by string, in NewStructure) (*store.Structure, error) {
	profile, bad := in.Profile.Checked(true)
	remarks, why := checkRemarks("remarks", in.Remarks)
	in.Remarks, bad = remarks, append(bad, why...)
	if len(bad) > 0 {
		return nil, &Invalid{Violations: bad}
	}
	now := s.now()
	st := &store.Structure{Profile: profile, RegistryID: in.RegistryID, RequestedAt: in.RequestedAt, Remarks: in.Remarks, CreatedAt: now}
	if st.RequestedAt.IsZero() {
		st.RequestedAt = now
	}
	c, err := st.Enter(now, by, "created")
	if err != nil {
		return nil, err
	}
	err = pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		if err := store.Insert(ctx, tx, st); err != nil {
			return err
		}
		return store.AddChange(ctx, tx, st.ID, c)
	})
	if err != nil {
		return nil, err
	}
	st.History = []rule.Change{c}
	return st, nil
}

// Patch is an edit of a structure: what is empty stays as it is.
type Patch struct {
	rule.Profile
	RegistryID  string
	RequestedAt time.Time
	Remarks     string
	// Status, when set and not the structure's, is a status change: an
	// edit makes only one, re-admitting a withdrawn structure as a
	// pre-adherent (Remarks then say why in its history). Adherent comes
	// by promotion, withdrawn by withdrawal. The structure's own status
	// echoed back changes nothing.
	Status rule.Status
}

// Update edits a structure and may re-admit it (Patch.Status).
func (s *Service) Update(ctx context.Context, by, id string, p Patch) (*store.Structure, error) {
	var st *store.Structure
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if st, err = store.Lock(ctx, tx, id); err != nil {
			return err
		}
		profile, bad := merge(st.Profile, p.Profile).Checked(false)
		remarks, why := checkRemarks("remarks", p.Remarks)
		p.Remarks, bad = remarks, append(bad, why...)
		readmit := p.Status != rule.None && p.Status != st.Status
		if readmit && (p.Status != rule.PreAdherent || st.Status != rule.Withdrawn) {
			bad = append(bad, rule.Violation{Field: "status", Problem: fmt.Sprintf("a %s cannot be made %s by an edit: "+
				"an edit only re-admits a withdrawn structure, as a pre-adherent; adherent comes by promotion, withdrawn by withdrawal", st.Status, p.Status)})
		}
		if len(bad) > 0 {
			return &Invalid{Violations: bad}
		}
		now := s.now()
		st.Profile = profile
		if p.RegistryID != "" {
			st.RegistryID = p.RegistryID
		}
		if !p.RequestedAt.IsZero() {
			st.RequestedAt = p.RequestedAt
		}
		if p.Remarks != "" {
			st.Remarks = p.Remarks
		}
		if err := store.SaveProfile(ctx, tx, st, now); err != nil {
			return err
		}
		if !readmit {
			return nil
		}
		c, err := st.Readmit(now, by, p.Remarks)
		if err != nil {
			return err
		}
		return s.change(ctx, tx, st, c)
	})
	return st, err
}

// change records a status change: the status, the history, the event.
func (s *Service) change(ctx context.Context, tx pgx.Tx, st *store.Structure, c rule.Change) error {
	if err := store.SaveStatus(ctx, tx, st, c.At); err != nil {
		return err
	}
	if err := store.AddChange(ctx, tx, st.ID, c); err != nil {
		return err
	}
	st.History = append(st.History, c)
	return s.announce(ctx, tx, st, c)
}

func merge(old, p rule.Profile) rule.Profile {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&old.Name, p.Name)
	set(&old.Type, p.Type)
	set(&old.ScopeWKT, p.ScopeWKT)
	set(&old.Contact.Name, p.Contact.Name)
	set(&old.Contact.Email, p.Contact.Email)
	set(&old.Contact.Phone, p.Contact.Phone)
	if len(p.Poles) > 0 {
		old.Poles = p.Poles
	}
	if len(p.Departements) > 0 {
		old.Departements = p.Departements
	}
	return old
}

// checkRemarks checks and cleans free text that may span lines: remarks
// (at most rule.MaxRemarks bytes), through platform/text.
func checkRemarks(field, s string) (string, []rule.Violation) {
	s, err := text.Check(s, text.Multiline, 0, rule.MaxRemarks)
	if err != nil {
		return "", []rule.Violation{{Field: field, Problem: err.Error()}}
	}
	return s, nil
}

// Get reads a structure with its promotion and history.
func (s *Service) Get(ctx context.Context, id string) (*store.Structure, error) {
	return store.Get(ctx, s.DB, id)
}

// List reads a page of structures.
func (s *Service) List(ctx context.Context, f store.Filter) ([]*store.Structure, bool, error) {
	return store.List(ctx, s.DB, f)
}

// Adherents are the adherents, for the public list.
func (s *Service) Adherents(ctx context.Context) ([]*store.Structure, error) {
	return store.Adherents(ctx, s.DB)
}
