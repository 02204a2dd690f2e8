// Package app is the delivery service's use cases: publish a released
// archive into its requester's drop zone, or a withheld F2's notice;
// expire a file after its retention, postpone it once; show an F2's
// password to its entitled requester; list a drop zone. Files go through
// package zone, records through package store, events through the outbox
// in the same transaction.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/archivekey"
	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
	"sinp.occitanie.fr/platform/staging"
	"sinp.occitanie.fr/platform/timer"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/delivery/store"
	"sinp.occitanie.fr/services/delivery/zone"
)

// Schema is the service's PostgreSQL schema.
const Schema = "delivery"

// TimerKind is the kind of the expiry timers.
const TimerKind = "expire"

// Emitter adds events to the service's outbox.
type Emitter interface {
	Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error)
}

// Service is the delivery service's application.
type Service struct {
	DB      *pgxpool.Pool
	Emitter Emitter
	Clock   clock.Clock
	Zones   *zone.Root
	// StagingDir is the extractor's staging area, read only. It is opened
	// at each release: a volume mounted after the start is seen.
	StagingDir string
	// Secret derives F2 passwords; nil when F2 archives are not encrypted.
	Secret archivekey.Secret
	// Encrypt: an F2 is published only encrypted (under Secret).
	Encrypt bool
	// Retention is how long a published file stays; a postponement adds
	// as much again, once.
	Retention time.Duration
	Log       *slog.Logger
	// BeforeCommit, when set, runs once a file is in its zone and before
	// its publication commits (tests kill the process there).
	BeforeCommit func(deliverableID string)
}

// Errors of the use cases.
var (
	ErrNotFound      = store.ErrNotFound
	ErrNoPassword    = errors.New("this file has no password (F1 archives and notices are not encrypted)")
	ErrPostponed     = errors.New("the expiry of this file was postponed already: once only")
	ErrExpired       = errors.New("this file has expired")
	ErrNotPublishing = errors.New("refused: an F2 is published only to an adherent's account")
)

func (s *Service) now(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	t, err := clock.Reading(ctx, tx, s.Clock)
	return t.Truncate(time.Microsecond), err
}

func kindName(k eventsv1.FileKind) string {
	if k == eventsv1.FileKind_FILE_KIND_F2 {
		return "F2"
	}
	return "F1"
}

func ruleName(r eventsv1.ReleaseRule) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "RELEASE_RULE_"))
}

// Publish puts a released archive into its requester's drop zone (in the
// consumer's transaction): copied whole or not at all, checked against the
// staging record before and after, recorded with the zone's manifests
// rewritten, its expiry set, and ArchivePublished emitted. A redelivered
// release publishes nothing twice; after a crash between the copy and the
// record, the complete file found in place is kept.
func (s *Service) Publish(ctx context.Context, tx pgx.Tx, ev *eventsv1.ReleaseGranted) error {
	d, req := ev.GetDeliverable(), ev.GetRequester()
	if _, err := store.Get(ctx, tx, d.GetDeliverableId(), false); err == nil {
		return nil // published already
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	z, now, err := s.admit(ctx, tx, Release{Reference: ev.GetReference(), Deliverable: d, Requester: req, DueAt: ev.GetDueAt().AsTime()})
	if err != nil {
		return err
	}
	src, err := s.staged(d.GetStagedPath())
	if err != nil {
		return err
	}
	placed, err := s.Zones.Place(z, ev.GetReference(), d.GetArchiveName(), src, d.GetBytes(), d.GetSha256())
	src.Close()
	if errors.Is(err, zone.ErrMismatch) || errors.Is(err, zone.ErrName) {
		return consumer.Permanent(err)
	}
	if err != nil {
		return err
	}
	p := store.Publication{DeliverableID: d.GetDeliverableId(), Reference: ev.GetReference(), Kind: kindName(d.GetKind()), Pole: d.GetPole(),
		Nature: "archive", DropZone: z, AccountID: req.GetAccountId(), Path: placed.Path, SHA256: placed.SHA256, Bytes: placed.Bytes,
		Rows: d.GetRows(), Encrypted: d.GetEncrypted(), Rule: ruleName(ev.GetRule()), ReleasedAt: ev.GetDueAt().AsTime(),
		PublishedAt: now, ExpiresAt: now.Add(s.Retention)}
	if err := s.record(ctx, tx, p); err != nil {
		return err
	}
	if _, err := s.Emitter.Emit(ctx, tx, &eventsv1.ArchivePublished{
		Meta: &eventsv1.Meta{RequestId: p.Reference, CausationId: ev.GetMeta().GetEventId()}, Reference: p.Reference,
		DeliverableId: p.DeliverableID, Kind: d.GetKind(), Pole: p.Pole, RequesterAccountId: p.AccountID, FileName: p.Path,
		Sha256: p.SHA256, Bytes: p.Bytes, DropZone: z, Rule: ev.GetRule(), ReleasedAt: ev.GetDueAt(),
		ExpiresAt: timestamppb.New(p.ExpiresAt), Rows: p.Rows}); err != nil {
		return err
	}
	s.Log.Info("delivery: archive published", "deliverable", p.DeliverableID, "zone", z, "path", p.Path, "bytes", p.Bytes,
		"already_in_place", placed.Already)
	if s.BeforeCommit != nil {
		s.BeforeCommit(p.DeliverableID)
	}
	return nil
}

// admit checks a release (CheckRelease) at the deciding instant and takes
// its zone's lock, so that one zone's publications, expiries and
// postponements write its files and manifests one at a time. It returns
// the zone and the instant.
func (s *Service) admit(ctx context.Context, tx pgx.Tx, r Release) (string, time.Time, error) {
	now, err := s.now(ctx, tx)
	if err != nil {
		return "", now, err
	}
	dep := Deployment{Encrypt: s.Encrypt}
	if s.Secret != nil {
		dep.KeyID = s.Secret.ID()
	}
	switch err := CheckRelease(r, dep, now); {
	case errors.Is(err, ErrNotDue):
		return "", now, err
	case err != nil:
		s.Log.Error("delivery: a release that cannot be published; nothing published", "reference", r.Reference,
			"deliverable", r.Deliverable.GetDeliverableId(), "err", err)
		return "", now, consumer.Permanent(err)
	}
	z, err := zone.For(r.Requester.GetAccountId(), r.Reference)
	if err != nil {
		return "", now, consumer.Permanent(err)
	}
	return z, now, lockZone(ctx, tx, z)
}

// lockZone serialises, until tx ends, what writes a zone's files and
// manifests: each writer sees the others' committed state.
func lockZone(ctx context.Context, tx pgx.Tx, z string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('delivery.zone/' || $1, 0))`, z)
	return err
}

// staged opens a staged archive: a regular file under the staging root
// (never a link out of it, never a pipe that would block the consumer).
func (s *Service) staged(p string) (*os.File, error) {
	root, err := os.OpenRoot(s.StagingDir)
	if err != nil {
		return nil, retry.Unavailable(fmt.Errorf("delivery: the staging area: %w", err))
	}
	defer root.Close()
	f, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// Missing from an area without its mark (a volume not mounted):
		// waited for, not counted against the release.
		if merr := staging.Marked(root); merr != nil {
			return nil, fmt.Errorf("delivery: the staged archive %s: %w", p, merr)
		}
		return nil, fmt.Errorf("delivery: the staged archive %s: %w", p, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, consumer.Permanent(fmt.Errorf("delivery: the staged archive %s is not a regular file", p))
	}
	return f, nil
}

// record inserts a publication, rewrites its zone's manifests and sets
// its expiry.
func (s *Service) record(ctx context.Context, tx pgx.Tx, p store.Publication) error {
	if _, err := store.Insert(ctx, tx, p); err != nil {
		return err
	}
	if err := s.manifests(ctx, tx, p.DropZone); err != nil {
		return err
	}
	return timer.Schedule(ctx, tx, Schema, timer.Timer{Key: "expire:" + p.DeliverableID, Kind: TimerKind, Due: p.ExpiresAt,
		Payload: []byte(p.DeliverableID)})
}

// manifests rewrites a zone's manifests from its files still there.
func (s *Service) manifests(ctx context.Context, q pg.Querier, z string) error {
	live, err := store.Live(ctx, q, z)
	if err != nil {
		return err
	}
	entries := make([]zone.Entry, len(live))
	for i, p := range live {
		entries[i] = zone.Entry{Path: p.Path, DeliverableID: p.DeliverableID, Reference: p.Reference, Kind: p.Kind, Pole: p.Pole,
			Nature: p.Nature, Rows: p.Rows, Bytes: p.Bytes, SHA256: p.SHA256, Rule: p.Rule, ReleasedAt: p.ReleasedAt,
			PublishedAt: p.PublishedAt, ExpiresAt: p.ExpiresAt}
	}
	return s.Zones.WriteManifests(z, entries)
}

// Reconcile rewrites every zone's manifests from the committed records,
// each under its zone's lock: what a publication or an expiry that failed
// after writing them (a crash, a refused commit) left is put right.
func (s *Service) Reconcile(ctx context.Context) error {
	zones, err := store.Zones(ctx, s.DB)
	if err != nil {
		return err
	}
	for _, z := range zones {
		if err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
			if err := lockZone(ctx, tx, z); err != nil {
				return err
			}
			return s.manifests(ctx, tx, z)
		}); err != nil {
			return fmt.Errorf("delivery: the manifests of %s: %w", z, err)
		}
	}
	return nil
}

// notice is what the requester reads instead of a withheld F2.
func notice(ref, pole, justification string) string {
	return fmt.Sprintf(`SINP Occitanie — demande %s

Le fichier F2 du pôle %s (données sensibles à leur précision d'origine) ne
vous est pas communiqué : le pôle a émis un avis défavorable.

Justification du pôle :

%s

Les observations sensibles de ce pôle figurent dans le fichier F1, floutées
à la commune, à la maille de 10 km ou au département.
`, ref, pole, justification)
}

// Notice publishes a withheld F2's notice, with the pôle's justification,
// in its requester's drop zone, and emits NoticePublished.
func (s *Service) Notice(ctx context.Context, tx pgx.Tx, ev *eventsv1.ReleaseWithheld) error {
	d, req := ev.GetDeliverable(), ev.GetRequester()
	if _, err := store.Get(ctx, tx, d.GetDeliverableId(), false); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	z, now, err := s.admit(ctx, tx, Release{Reference: ev.GetReference(), Deliverable: d, Requester: req, Withheld: true,
		DueAt: ev.GetDueAt().AsTime()})
	if err != nil {
		return err
	}
	name := "NOTICE_F2_" + d.GetPole() + ".txt"
	placed, err := s.Zones.WriteFile(z, ev.GetReference(), name, []byte(notice(ev.GetReference(), d.GetPole(), ev.GetJustification())))
	if errors.Is(err, zone.ErrName) {
		return consumer.Permanent(err)
	}
	if err != nil {
		return err
	}
	p := store.Publication{DeliverableID: d.GetDeliverableId(), Reference: ev.GetReference(), Kind: "F2", Pole: d.GetPole(),
		Nature: "notice", DropZone: z, AccountID: req.GetAccountId(), Path: placed.Path, SHA256: placed.SHA256, Bytes: placed.Bytes,
		Rule: ruleName(ev.GetRule()), ReleasedAt: ev.GetDueAt().AsTime(), Justification: ev.GetJustification(), PublishedAt: now,
		ExpiresAt: now.Add(s.Retention)}
	if err := s.record(ctx, tx, p); err != nil {
		return err
	}
	_, err = s.Emitter.Emit(ctx, tx, &eventsv1.NoticePublished{
		Meta: &eventsv1.Meta{RequestId: p.Reference, CausationId: ev.GetMeta().GetEventId()}, Reference: p.Reference,
		DeliverableId: p.DeliverableID, Pole: p.Pole, RequesterAccountId: p.AccountID, FileName: p.Path,
		Justification: ev.GetJustification(), DropZone: z})
	return err
}

// Expire is the expiry timer's handler: the file leaves its zone; the
// record and the audit stay.
func (s *Service) Expire(ctx context.Context, tx pgx.Tx, f timer.Firing) error {
	p, err := store.Get(ctx, tx, string(f.Payload), true)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || !p.ExpiredAt.IsZero() {
		return err
	}
	// Postponed since this timer was set: a later timer is scheduled.
	if f.Now.Before(p.ExpiresAt) {
		return nil
	}
	if err := lockZone(ctx, tx, p.DropZone); err != nil {
		return err
	}
	if err := s.Zones.Remove(p.DropZone, p.Path); err != nil {
		return err
	}
	if err := store.Expire(ctx, tx, p.DeliverableID, f.Now); err != nil {
		return err
	}
	if err := s.manifests(ctx, tx, p.DropZone); err != nil {
		return err
	}
	_, err = s.Emitter.Emit(ctx, tx, &eventsv1.ArchiveExpired{Meta: &eventsv1.Meta{RequestId: p.Reference}, Reference: p.Reference,
		DeliverableId: p.DeliverableID, DropZone: p.DropZone, FileName: p.Path})
	return err
}

// Now is the deployment's time as the database reads it (clock.Reading),
// for what must not come late: serving a file past its expiry.
func (s *Service) Now(ctx context.Context) (time.Time, error) {
	return clock.Reading(ctx, s.DB, s.Clock)
}

// Owns says whether p may see a publication: the requester's account, or
// the tracking token of its request.
func Owns(p auth.Principal, pub store.Publication) bool {
	switch p.Kind {
	case auth.Requester:
		return pub.AccountID != "" && pub.AccountID == p.Subject
	case auth.Tracking:
		return pub.AccountID == "" && pub.Reference == p.Request && pub.DropZone == "req-"+p.Request
	}
	return false
}

// ZoneOf is the drop zone a principal reaches ("" for none).
func ZoneOf(p auth.Principal) string {
	var z string
	var err error
	switch p.Kind {
	case auth.Requester:
		z, err = zone.For(p.Subject, "")
	case auth.Tracking:
		z, err = zone.For("", p.Request)
	default:
		return ""
	}
	if err != nil {
		return ""
	}
	return z
}

// Files lists the publications of p's zone.
func (s *Service) Files(ctx context.Context, p auth.Principal, reference, after string, limit int) (string, []store.Publication, error) {
	z := ZoneOf(p)
	if z == "" {
		return "", nil, nil
	}
	if p.Kind == auth.Tracking {
		reference = p.Request
	}
	list, err := store.Zone(ctx, s.DB, z, reference, after, limit)
	if err != nil {
		return z, nil, err
	}
	out := list[:0]
	for _, pub := range list {
		if Owns(p, pub) {
			out = append(out, pub)
		}
	}
	return z, out, nil
}

// Password shows an F2 archive's password to its entitled requester and
// audits the showing.
func (s *Service) Password(ctx context.Context, p auth.Principal, deliverableID, address string) (string, error) {
	pub, err := store.Get(ctx, s.DB, deliverableID, false)
	if err != nil {
		return "", err
	}
	if !Owns(p, pub) || p.Kind != auth.Requester {
		return "", ErrNotFound
	}
	if pub.Nature != "archive" || pub.Kind != "F2" || !pub.Encrypted || s.Secret == nil {
		return "", ErrNoPassword
	}
	// A replica that has not yet seen an advance does not show the
	// password of an expired file.
	at, err := s.Now(ctx)
	if err != nil {
		return "", err
	}
	if Gone(pub, at) {
		return "", ErrExpired
	}
	if err := store.AddAudit(ctx, s.DB, store.Audit{At: at, Action: "password", Principal: p.String(), Reference: pub.Reference,
		DeliverableID: pub.DeliverableID, Pole: pub.Pole, Path: pub.Path, Address: address, Complete: true}); err != nil {
		return "", err
	}
	return s.Secret.Password(pub.DeliverableID), nil
}

// Postpone keeps a file one more retention period, once.
func (s *Service) Postpone(ctx context.Context, p auth.Principal, deliverableID string) (store.Publication, error) {
	var out store.Publication
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		// The expiry timer first, as its scanner takes it before the
		// publication: the two are ordered, never deadlocked.
		if err := timer.Lock(ctx, tx, Schema, "expire:"+deliverableID); err != nil {
			return err
		}
		pub, err := store.Get(ctx, tx, deliverableID, true)
		if err != nil {
			return err
		}
		if !Owns(p, pub) {
			return ErrNotFound
		}
		if err := lockZone(ctx, tx, pub.DropZone); err != nil {
			return err
		}
		now, err := s.now(ctx, tx)
		if err != nil {
			return err
		}
		switch {
		case !pub.ExpiredAt.IsZero() || !now.Before(pub.ExpiresAt):
			return ErrExpired
		case pub.Postponed:
			return ErrPostponed
		}
		pub.ExpiresAt, pub.Postponed = pub.ExpiresAt.Add(s.Retention), true
		if err := store.Postpone(ctx, tx, pub.DeliverableID, pub.ExpiresAt); err != nil {
			return err
		}
		if err := timer.Schedule(ctx, tx, Schema, timer.Timer{Key: "expire:" + pub.DeliverableID, Kind: TimerKind, Due: pub.ExpiresAt,
			Payload: []byte(pub.DeliverableID)}); err != nil {
			return err
		}
		out = pub
		return s.manifests(ctx, tx, pub.DropZone)
	})
	return out, err
}
