package app

import (
	"errors"
	"testing"
	"time"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/delivery/store"
)

func TestWhatARelease(t *testing.T) {
	due := time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)
	adherent := &eventsv1.Requester{AccountId: "acc-1", Membership: eventsv1.Membership_MEMBERSHIP_ADHERENT}
	f1 := func() *eventsv1.Deliverable {
		return &eventsv1.Deliverable{DeliverableId: "R-1/F1", Kind: eventsv1.FileKind_FILE_KIND_F1, ArchiveName: "R-1_F1.7z", StagedPath: "R-1/R-1_F1.7z"}
	}
	f2 := func() *eventsv1.Deliverable {
		return &eventsv1.Deliverable{DeliverableId: "R-1/F2/flore", Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: "flore",
			ArchiveName: "R-1_F2_flore.7z", StagedPath: "R-1/R-1_F2_flore.7z", Encrypted: true, KeyId: "k1"}
	}
	with := func(d *eventsv1.Deliverable, edit func(*eventsv1.Deliverable)) *eventsv1.Deliverable {
		edit(d)
		return d
	}
	dep := Deployment{Encrypt: true, KeyID: "k1"}
	for _, c := range []struct {
		name string
		r    Release
		dep  Deployment
		now  time.Time
		want error // nil, ErrNotDue, ErrBadRelease, ErrNotPublishing
	}{
		{"F1 at its instant", Release{Reference: "R-1", Deliverable: f1(), Requester: adherent, DueAt: due}, dep, due, nil},
		{"F1 of an account-less requester", Release{Reference: "R-1", Deliverable: f1(), Requester: &eventsv1.Requester{}, DueAt: due}, dep, due, nil},
		{"F2 of an adherent", Release{Reference: "R-1", Deliverable: f2(), Requester: adherent, DueAt: due}, dep, due.Add(time.Hour), nil},
		{"a microsecond early", Release{Reference: "R-1", Deliverable: f2(), Requester: adherent, DueAt: due}, dep, due.Add(-time.Microsecond), ErrNotDue},
		{"due 30 days ahead", Release{Reference: "R-1", Deliverable: f1(), Requester: adherent, DueAt: due.Add(720 * time.Hour)}, dep, due, ErrNotDue},
		{"no instant", Release{Reference: "R-1", Deliverable: f1(), Requester: adherent}, dep, due, ErrBadRelease},
		{"F2 of a pre-adherent", Release{Reference: "R-1", Deliverable: f2(), DueAt: due,
			Requester: &eventsv1.Requester{AccountId: "acc-1", Membership: eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT}}, dep, due, ErrNotPublishing},
		{"F2 without an account", Release{Reference: "R-1", Deliverable: f2(), DueAt: due,
			Requester: &eventsv1.Requester{Membership: eventsv1.Membership_MEMBERSHIP_ADHERENT}}, dep, due, ErrNotPublishing},
		{"F2 in clear", Release{Reference: "R-1", Deliverable: with(f2(), func(d *eventsv1.Deliverable) { d.Encrypted, d.KeyId = false, "" }),
			Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"F2 in clear where nothing is encrypted", Release{Reference: "R-1", Deliverable: with(f2(), func(d *eventsv1.Deliverable) { d.Encrypted, d.KeyId = false, "" }),
			Requester: adherent, DueAt: due}, Deployment{}, due, nil},
		{"F2 under another secret", Release{Reference: "R-1", Deliverable: with(f2(), func(d *eventsv1.Deliverable) { d.KeyId = "k2" }),
			Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"another request's archive", Release{Reference: "R-2", Deliverable: f1(), Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"another request's staged file", Release{Reference: "R-1", Deliverable: with(f1(), func(d *eventsv1.Deliverable) { d.StagedPath = "R-2/R-2_F1.7z" }),
			Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"an F2 staged as F1", Release{Reference: "R-1", Deliverable: with(f2(), func(d *eventsv1.Deliverable) {
			d.ArchiveName, d.StagedPath = "R-1_F1.7z", "R-1/R-1_F1.7z"
		}), Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"a staged path out of staging", Release{Reference: "R-1", Deliverable: with(f1(), func(d *eventsv1.Deliverable) { d.StagedPath = "../../etc/passwd" }),
			Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"an F1 of a pôle", Release{Reference: "R-1", Deliverable: with(f1(), func(d *eventsv1.Deliverable) { d.Pole = "flore" }),
			Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"an unknown pôle", Release{Reference: "R-1", Deliverable: with(f2(), func(d *eventsv1.Deliverable) {
			d.Pole, d.DeliverableId, d.ArchiveName, d.StagedPath = "lichens", "R-1/F2/lichens", "R-1_F2_lichens.7z", "R-1/R-1_F2_lichens.7z"
		}), Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"an account id without its prefix", Release{Reference: "R-1", Deliverable: f1(), DueAt: due,
			Requester: &eventsv1.Requester{AccountId: "1"}}, dep, due, ErrBadRelease},
		{"a withheld F1", Release{Reference: "R-1", Deliverable: f1(), Requester: adherent, Withheld: true, DueAt: due}, dep, due, ErrBadRelease},
		{"a withheld F2 (its notice)", Release{Reference: "R-1", Deliverable: with(f2(), func(d *eventsv1.Deliverable) { d.StagedPath, d.ArchiveName = "", "" }),
			Requester: adherent, Withheld: true, DueAt: due}, dep, due, nil},
		{"a reference out of the zone", Release{Reference: "../R-1", Deliverable: f1(), Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
		{"no deliverable", Release{Reference: "R-1", Requester: adherent, DueAt: due}, dep, due, ErrBadRelease},
	} {
		err := CheckRelease(c.r, c.dep, c.now)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestAFileIsGoneAtItsExpiryInstant(t *testing.T) {
	exp := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	p := store.Publication{ExpiresAt: exp}
	for _, c := range []struct {
		now  time.Time
		p    store.Publication
		gone bool
	}{
		{exp.Add(-time.Microsecond), p, false},
		{exp, p, true},
		{exp.Add(time.Hour), p, true},
		{exp.Add(-time.Hour), store.Publication{ExpiresAt: exp, ExpiredAt: exp.Add(-2 * time.Hour)}, true},
	} {
		if got := Gone(c.p, c.now); got != c.gone {
			t.Errorf("at %s: gone %v, want %v", c.now, got, c.gone)
		}
	}
}
