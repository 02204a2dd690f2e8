package request

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/perimeter"
)

// Emitter adds events to intake's outbox.
type Emitter interface {
	Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error)
}

// Extractor is what intake asks the extractor (its API): one code path
// selects observations, the extractor's.
type Extractor interface {
	CheckScope(ctx context.Context, req *extractorv1.CheckScopeRequest) (*extractorv1.CheckScopeResponse, error)
	EstimateExtraction(ctx context.Context, req *extractorv1.EstimateExtractionRequest) (*extractorv1.EstimateExtractionResponse, error)
	GetTerritory(ctx context.Context, req *extractorv1.GetTerritoryRequest) (*extractorv1.GetTerritoryResponse, error)
}

// Member is a structure of the registry as intake needs it.
type Member struct {
	Name       string
	Membership eventsv1.Membership
}

// Registry resolves a structure's membership now (package membership).
type Registry func(ctx context.Context, q pg.Querier, structureID string) (Member, error)

// AccountEmail is a requester account's email.
type AccountEmail func(ctx context.Context, q pg.Querier, accountID string) (string, error)

// Service is the requests' use cases.
type Service struct {
	DB        *pgxpool.Pool
	Emitter   Emitter
	Clock     clock.Clock
	Signer    *auth.Signer
	Extractor Extractor
	Registry  Registry
	Email     AccountEmail
	Limits    Limits
	// How long a tracking token opens its request.
	TrackingTTL time.Duration
	Log         *slog.Logger

	regionOnce sync.Mutex
	region     *perimeter.Region
}

// Errors of the use cases.
var (
	// ErrKeyReused says no more than that: not which call, when, or whose.
	ErrKeyReused = errors.New("this idempotency key was already used for a different call: use a new key for each new call")
	// ErrUnavailable: the extractor, which checks codes and the region,
	// cannot be reached; nothing is recorded.
	ErrUnavailable = errors.New("the request cannot be checked right now (the extractor is unreachable); nothing was recorded, try again")
)

// ForbiddenError is an action the caller may not take.
type ForbiddenError struct{ Why string }

func (e ForbiddenError) Error() string { return e.Why }

func (s *Service) now() time.Time { return s.Clock.Now().Truncate(time.Microsecond) }

// territory is the region the store covers, asked of the extractor once.
func (s *Service) territory(ctx context.Context) (*perimeter.Region, error) {
	s.regionOnce.Lock()
	defer s.regionOnce.Unlock()
	if s.region != nil {
		return s.region, nil
	}
	t, err := s.Extractor.GetTerritory(ctx, &extractorv1.GetTerritoryRequest{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	p, err := perimeter.Parse(perimeter.Input{Format: perimeter.WKT, Text: t.GetRegionWkt(), SRID: perimeter.SRIDLambert93},
		perimeter.Limits{MaxBytes: 256 << 20, MaxVertices: 10_000_000})
	if err != nil {
		return nil, fmt.Errorf("intake: the extractor's territory: %w", err)
	}
	s.region = perimeter.NewRegion(p.Polygons...)
	return s.region, nil
}

// visible says whether p may see a request: its requester (account), the
// holder of its tracking token, the administrator. Anyone else is told it
// does not exist.
func visible(p auth.Principal, r *Record) bool {
	switch p.Kind {
	case auth.Administrator:
		return true
	case auth.Requester:
		return r.AccountID != "" && r.AccountID == p.Subject
	case auth.Tracking:
		return r.TrackingID != "" && r.TrackingID == p.Subject && p.Request == r.Reference
	}
	return false
}

// Get returns a request p may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, ref string) (*Record, error) {
	r, err := getRecord(ctx, s.DB, ref)
	if err != nil {
		return nil, err
	}
	if !visible(p, r) {
		return nil, ErrNotFound
	}
	return r, nil
}

// List returns the requests p may see, by filter.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) ([]*Record, error) {
	switch p.Kind {
	case auth.Administrator:
	case auth.Requester:
		f.AccountID = p.Subject
	case auth.Tracking:
		f.Reference = p.Request
	default:
		return nil, nil
	}
	list, err := listRecords(ctx, s.DB, f)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, r := range list {
		if visible(p, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// digest identifies a submission's content, for idempotent retries.
func digest(s Submission) []byte {
	m := &eventsv1.RequestSubmitted{Purpose: s.Purpose, Scope: s.Scope, Period: s.Period, Options: s.Options}
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	in, _ := proto.MarshalOptions{Deterministic: true}.Marshal(s.Perimeter)
	d, _ := proto.MarshalOptions{Deterministic: true}.Marshal(s.Declared)
	h := sha256.New()
	for _, part := range [][]byte{b, in, d} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	fmt.Fprintf(h, "charter=%v", s.CharterAccepted)
	return h.Sum(nil)
}

// Submitted is what Submit gives.
type Submitted struct {
	Record   *Record
	Tracking string // account-less only
	Replayed bool
}

// submitKey is where a submission's idempotency key is kept: a signed-in
// requester's keys are its account's; account-less keys share one space
// (the declared email is anyone's to declare) and are kept hashed, since
// each one alone gives its request's tracking token back.
func submitKey(p auth.Principal, key string) (by, stored string) {
	if p.Kind == auth.Requester || key == "" {
		return p.String(), key
	}
	sum := sha256.Sum256([]byte(key))
	return "nobody", "sha256:" + hex.EncodeToString(sum[:])
}

// Submit files a request from a client address. A signed-in requester is
// known by its account and the registry, and has at most Limits.MaxOpen
// requests open; anyone else files as a declared non-adherent, at most
// Limits.AnonymousPerAddress times per window from one address, and gets
// a tracking token. A retry with the same idempotency key and content
// returns the first result, tracking token included; concurrent retries
// take their turn and all get it.
func (s *Service) Submit(ctx context.Context, p auth.Principal, sub Submission, key, address string) (Submitted, error) {
	signedIn := p.Kind == auth.Requester
	if !signedIn && p.Kind != auth.Nobody {
		return Submitted{}, ForbiddenError{fmt.Sprintf("a %s does not file requests: sign in as a requester, or file without an account", p.Kind)}
	}
	if bad := CheckKey(key, !signedIn); len(bad) > 0 {
		return Submitted{}, grpcserver.Invalid(bad...)
	}
	by, storedKey := submitKey(p, key)
	sum := digest(sub)
	if key != "" {
		if r, err := bySubmitKey(ctx, s.DB, by, storedKey, sum); r != nil || err != nil {
			if err != nil {
				return Submitted{}, err
			}
			return s.replaySubmission(ctx, r)
		}
	}
	now := s.now()
	lim := s.Limits
	client := grpcserver.Subscriber(address)
	if !signedIn {
		// Before asking the extractor anything; counted again under the lock.
		if err := s.throttle(ctx, s.DB, client, now); err != nil {
			return Submitted{}, err
		}
	}
	if sub.Perimeter.GetAreas() == nil {
		region, err := s.territory(ctx)
		if err != nil {
			return Submitted{}, err
		}
		lim.Perimeter.Region = region
	}
	c, bad := Check(sub, signedIn, now, lim)
	if len(bad) == 0 {
		var err error
		if bad, err = s.checkCodes(ctx, &c, lim); err != nil {
			return Submitted{}, err
		}
	}
	if len(bad) > 0 {
		return Submitted{}, grpcserver.Invalid(bad...)
	}
	requester, err := s.requester(ctx, p, c.Declared)
	if err != nil {
		return Submitted{}, err
	}
	var out Submitted
	err = pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		// Locks in one order: the key, then the account or the address.
		if key != "" {
			if err := lock(ctx, tx, "submit-key", by+" "+storedKey); err != nil {
				return err
			}
			r, err := bySubmitKey(ctx, tx, by, storedKey, sum)
			if r != nil || err != nil {
				out = Submitted{Record: r, Replayed: true}
				return err
			}
		}
		if signedIn {
			if err := lock(ctx, tx, "open", requester.AccountId); err != nil {
				return err
			}
			open, err := countOpen(ctx, tx, requester.AccountId)
			if err != nil {
				return err
			}
			if open >= lim.MaxOpen {
				return grpcserver.Invalid(grpcserver.Violation{Field: "requester", Description: fmt.Sprintf(
					"already %d open requests, the most one requester may have: wait for one to be completed, or cancel one", open)})
			}
		} else {
			if err := lock(ctx, tx, "anonymous", client); err != nil {
				return err
			}
			if err := s.throttle(ctx, tx, client, now); err != nil {
				return err
			}
			if err := addAnonymous(ctx, tx, client, now, now.Add(-lim.AnonymousWindow)); err != nil {
				return err
			}
		}
		ref, err := nextReference(ctx, tx, now)
		if err != nil {
			return err
		}
		ev := &eventsv1.RequestSubmitted{Meta: &eventsv1.Meta{RequestId: ref}, Reference: ref, Requester: requester, Purpose: c.Purpose,
			Perimeter: c.Perimeter, Scope: c.Scope, Period: c.Period, Options: c.Options, CharterAcceptedAt: timestamppb.New(now)}
		r := &Record{Reference: ref, State: Deposited, AccountID: requester.AccountId, StructureID: requester.StructureId,
			DeclaredEmail: requester.Email, Poles: c.Scope.GetPoles(), AreaKm2: c.AreaKm2, SubmittedAt: now, UpdatedAt: now,
			SubmittedBy: by, SubmitKey: storedKey, SubmitDigest: sum}
		if !signedIn {
			r.TrackingID, r.TrackingIssuedAt = "trk-"+auth.RandomID(), time.Now().Truncate(time.Millisecond)
		}
		id, err := s.Emitter.Emit(ctx, tx, ev)
		if err != nil {
			return err
		}
		ev.Meta.EventId = id
		r.Submission = ev
		if err := insertRecord(ctx, tx, r); err != nil {
			return err
		}
		if err := addHistory(ctx, tx, ref, HistoryEntry{At: now, What: "submitted", Who: p.String(), Detail: c.Purpose}); err != nil {
			return err
		}
		out.Record = r
		return nil
	})
	if err != nil {
		return Submitted{}, err
	}
	if out.Replayed {
		return s.replaySubmission(ctx, out.Record)
	}
	out.Tracking, err = s.trackingToken(out.Record)
	return out, err
}

// bySubmitKey looks a submission up by its key: nil when there is none;
// found with another content, the key was used for a different call, and
// nothing of that call is told.
func bySubmitKey(ctx context.Context, q pg.Querier, by, storedKey string, sum []byte) (*Record, error) {
	r, err := recordBySubmitKey(ctx, q, by, storedKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case !bytes.Equal(r.SubmitDigest, sum):
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "idempotency_key", Description: ErrKeyReused.Error()})
	}
	return r, nil
}

// throttle refuses an account-less submission from a client that filed
// Limits.AnonymousPerAddress of them within the window.
func (s *Service) throttle(ctx context.Context, q pg.Querier, client string, now time.Time) error {
	n, oldest, err := recentAnonymous(ctx, q, client, now.Add(-s.Limits.AnonymousWindow))
	if err != nil {
		return err
	}
	if limited, until := s.Limits.Throttled(n, oldest); limited {
		return ThrottledError{RetryAt: until}
	}
	return nil
}

func (s *Service) replaySubmission(ctx context.Context, r *Record) (Submitted, error) {
	if err := loadDetails(ctx, s.DB, r); err != nil {
		return Submitted{}, err
	}
	tok, err := s.trackingToken(r)
	return Submitted{Record: r, Tracking: tok, Replayed: true}, err
}

// trackingToken signs the token of an account-less request; the same
// record gives the same token (same id and instants), so a retried
// submission gets it back.
func (s *Service) trackingToken(r *Record) (string, error) {
	if r.TrackingID == "" {
		return "", nil
	}
	tok, _, err := s.Signer.Issue(auth.Principal{Kind: auth.Tracking, Subject: r.TrackingID, TokenID: r.TrackingID,
		Name: r.Submission.GetRequester().GetName(), Request: r.Reference}, r.TrackingIssuedAt, s.TrackingTTL)
	return tok, err
}

// requester is who files: an account's identity and its structure's
// membership from the registry, or a declared non-adherent.
func (s *Service) requester(ctx context.Context, p auth.Principal, d *intakev1.DeclaredRequester) (*eventsv1.Requester, error) {
	if p.Kind != auth.Requester {
		return &eventsv1.Requester{Name: d.GetName(), Email: d.GetEmail(), StructureName: d.GetStructureName(),
			Membership: eventsv1.Membership_MEMBERSHIP_NON_ADHERENT}, nil
	}
	email, err := s.Email(ctx, s.DB, p.Subject)
	if err != nil {
		return nil, err
	}
	m, err := s.Registry(ctx, s.DB, p.Structure)
	if err != nil {
		return nil, fmt.Errorf("intake: the registry has no structure %q for account %s: %w", p.Structure, p.Subject, err)
	}
	return &eventsv1.Requester{AccountId: p.Subject, Name: p.Name, Email: email, StructureId: p.Structure, StructureName: m.Name,
		Membership: m.Membership, MembershipFromRegistry: true}, nil
}

// checkCodes asks the extractor which areas, pôles and taxa the store does
// not know, and the area of a perimeter given as a list.
func (s *Service) checkCodes(ctx context.Context, c *Checked, lim Limits) ([]grpcserver.Violation, error) {
	areas := c.Perimeter.GetAreas()
	if len(areas) == 0 && len(c.Scope.GetPoles()) == 0 && len(c.Scope.GetCdRefs()) == 0 {
		return nil, nil
	}
	resp, err := s.Extractor.CheckScope(ctx, &extractorv1.CheckScopeRequest{Areas: areas, Poles: c.Scope.GetPoles(), CdRefs: c.Scope.GetCdRefs()})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var bad []grpcserver.Violation
	for _, u := range resp.GetUnknownAreas() {
		for i, a := range areas {
			if a.GetKind() == u.GetKind() && a.GetCode() == u.GetCode() {
				bad = append(bad, grpcserver.Violation{Field: fmt.Sprintf("perimeter.areas[%d].code", i),
					Description: fmt.Sprintf("no %s %s in the platform's territory", u.GetKind(), u.GetCode())})
			}
		}
	}
	for _, u := range resp.GetUnknownPoles() {
		bad = append(bad, grpcserver.Violation{Field: "scope.poles", Description: fmt.Sprintf("unknown pôle %q", u)})
	}
	for _, u := range resp.GetUnknownCdRefs() {
		bad = append(bad, grpcserver.Violation{Field: "scope.cd_refs", Description: fmt.Sprintf("no taxon with cd_ref %d in TAXREF as the store has it", u)})
	}
	if len(areas) > 0 {
		c.AreaKm2 = resp.GetAreasKm2()
		if max := lim.Perimeter.MaxAreaKm2; max > 0 && c.AreaKm2 > max {
			bad = append(bad, grpcserver.Violation{Field: "perimeter.areas", Description: fmt.Sprintf(
				"these objects cover %.0f km², more than the %.0f km² accepted: narrow the perimeter, or split the request", c.AreaKm2, max)})
		}
	}
	return bad, nil
}
