package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"sinp.occitanie.fr/platform/pole"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/delivery/store"
	"sinp.occitanie.fr/services/delivery/zone"
)

// What delivery will publish. A release names what to copy where; delivery
// believes only what it can check: the names are the ones the extractor
// gives a deliverable of that reference, an F2 goes to an adherent's
// account, encrypted under this deployment's secret, and nothing is
// published before the instant its rule settled it at.

// Release is what an event asks to publish.
type Release struct {
	Reference   string
	Deliverable *eventsv1.Deliverable
	Requester   *eventsv1.Requester
	// Withheld: a notice instead of the archive.
	Withheld bool
	// DueAt is the instant the rule settled it at.
	DueAt time.Time
}

// Deployment is what delivery checks a release against.
type Deployment struct {
	// Encrypt: F2 archives must be encrypted, under the secret KeyID names.
	Encrypt bool
	KeyID   string
}

// ErrNotDue: a release whose instant has not come by this process's
// reading (a clock that lags the reviewer's by a little: tried again).
var ErrNotDue = errors.New("not due yet by this process's clock")

// ErrBadRelease: a release no extraction would have made; never published.
var ErrBadRelease = errors.New("refused release")

// CheckRelease says whether r may be published now: nil, ErrNotDue (try
// again later), or an error wrapping ErrBadRelease or ErrNotPublishing
// (never: the event is wrong).
func CheckRelease(r Release, dep Deployment, now time.Time) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRelease, fmt.Sprintf(format, a...))
	}
	d, ref := r.Deliverable, r.Reference
	if d == nil {
		return bad("no deliverable")
	}
	if !zone.ValidName(ref) {
		return bad("reference %q", ref)
	}
	var id, archive string
	switch d.GetKind() {
	case eventsv1.FileKind_FILE_KIND_F1:
		if d.GetPole() != "" {
			return bad("an F1 of pôle %q", d.GetPole())
		}
		if r.Withheld {
			return bad("F1 is never withheld")
		}
		id, archive = ref+"/F1", ref+"_F1.7z"
	case eventsv1.FileKind_FILE_KIND_F2:
		if !pole.Valid(d.GetPole()) {
			return bad("pôle %q", d.GetPole())
		}
		id, archive = ref+"/F2/"+d.GetPole(), ref+"_F2_"+d.GetPole()+".7z"
	default:
		return bad("kind %v", d.GetKind())
	}
	if d.GetDeliverableId() != id {
		return bad("deliverable %q of %s is not %q", d.GetDeliverableId(), ref, id)
	}
	if !r.Withheld && (d.GetArchiveName() != archive || d.GetStagedPath() != ref+"/"+archive) {
		return bad("%s staged as %q (%q), not %q", id, d.GetStagedPath(), d.GetArchiveName(), ref+"/"+archive)
	}
	if acc := r.Requester.GetAccountId(); acc != "" && (!strings.HasPrefix(acc, "acc-") || !zone.ValidName(acc)) {
		return bad("account %q", acc)
	}
	if d.GetKind() == eventsv1.FileKind_FILE_KIND_F2 && !r.Withheld {
		// Sensitive data at full precision goes to an adherent's account
		// only, encrypted under this deployment's secret.
		if r.Requester.GetAccountId() == "" || r.Requester.GetMembership() != eventsv1.Membership_MEMBERSHIP_ADHERENT {
			return fmt.Errorf("%w: %s", ErrNotPublishing, id)
		}
		if dep.Encrypt && !d.GetEncrypted() {
			return bad("%s is not encrypted", id)
		}
		if d.GetEncrypted() && d.GetKeyId() != dep.KeyID {
			return bad("%s is encrypted under secret %q, this process holds %q (SINP_F2_SECRET_FILE must be the extractor's)",
				id, d.GetKeyId(), dep.KeyID)
		}
	}
	if r.DueAt.IsZero() {
		return bad("%s without its instant", id)
	}
	if now.Before(r.DueAt) {
		return fmt.Errorf("%w: %s is due at %s, now is %s", ErrNotDue, id, r.DueAt.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	return nil
}

// Gone says whether a publication is no longer its requester's at now:
// removed, or past its expiry instant (its timer may not have fired yet).
func Gone(p store.Publication, now time.Time) bool {
	return !p.ExpiredAt.IsZero() || (!p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt))
}
