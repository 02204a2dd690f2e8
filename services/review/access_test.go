package review_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
)

// Every method × every kind of caller, as an attacker would try: a
// reviewer reaches its own pôle only, whatever it asks; a requester
// cannot give an opinion and sees its own requests' plans only (another's
// answers as missing); a tracking token opens its one request.
func TestWhoMayCallWhat(t *testing.T) {
	h := newHarness(t, nil)
	h.publish(t, completed("R-auth", adh, "flore"))
	h.publish(t, completed("R-other", adh, "oiseaux"))
	h.waitEvents(t, "reviews opened", func(evs []bus.Event) bool { return count[*eventsv1.ReviewOpened](evs) == 2 })

	callers := map[string]auth.Principal{
		"flore reviewer":    reviewer("flore"),
		"oiseaux reviewer":  reviewer("oiseaux"),
		"owner":             {Kind: auth.Requester, Subject: "acc-R-auth"},
		"another requester": {Kind: auth.Requester, Subject: "acc-R-other"},
		"tracking R-auth":   {Kind: auth.Tracking, Subject: "trk-1", Request: "R-auth"},
		"tracking R-other":  {Kind: auth.Tracking, Subject: "trk-2", Request: "R-other"},
		"administrator":     admin,
		"operator":          {Kind: auth.Operator, Subject: "op"},
		"nobody":            {},
	}
	type call func(ctx context.Context) error
	calls := map[string]call{
		"GetReview flore": func(ctx context.Context) error {
			_, err := h.api.GetReview(ctx, &reviewv1.GetReviewRequest{Reference: "R-auth", Pole: "flore"})
			return err
		},
		"GetReview own pôle": func(ctx context.Context) error {
			_, err := h.api.GetReview(ctx, &reviewv1.GetReviewRequest{Reference: "R-auth"})
			return err
		},
		"RecordOpinion flore": func(ctx context.Context) error {
			_, err := h.api.RecordOpinion(ctx, &reviewv1.RecordOpinionRequest{Reference: "R-auth", Pole: "flore", Opinion: eventsv1.Opinion_OPINION_FAVORABLE})
			return err
		},
		"ListQueue flore": func(ctx context.Context) error {
			resp, err := h.api.ListQueue(ctx, &reviewv1.ListQueueRequest{Pole: "flore"})
			if err == nil && (len(resp.Reviews) != 1 || resp.Reviews[0].Reference != "R-auth") {
				return status.Errorf(codes.Internal, "flore's queue is %v", resp.Reviews)
			}
			return err
		},
		"ListQueue own": func(ctx context.Context) error {
			resp, err := h.api.ListQueue(ctx, &reviewv1.ListQueueRequest{})
			for _, r := range resp.GetReviews() {
				if p := auth.FromContext(ctx); r.Pole == "flore" && p.Kind == auth.Reviewer && p.Pole != "flore" {
					return status.Error(codes.Internal, "another pôle's review listed")
				}
			}
			return err
		},
		"GetReleasePlan R-auth": func(ctx context.Context) error {
			_, err := h.api.GetReleasePlan(ctx, &reviewv1.GetReleasePlanRequest{Reference: "R-auth"})
			return err
		},
	}
	ok, denied, missing, unauth := codes.OK, codes.PermissionDenied, codes.NotFound, codes.Unauthenticated
	want := map[string]map[string]codes.Code{
		"GetReview flore":       {"flore reviewer": ok, "oiseaux reviewer": denied, "administrator": ok},
		"GetReview own pôle":    {"flore reviewer": ok, "oiseaux reviewer": missing, "administrator": codes.InvalidArgument},
		"RecordOpinion flore":   {"flore reviewer": ok, "oiseaux reviewer": denied},
		"ListQueue flore":       {"flore reviewer": ok, "oiseaux reviewer": denied, "administrator": ok},
		"ListQueue own":         {"flore reviewer": ok, "oiseaux reviewer": ok, "administrator": ok},
		"GetReleasePlan R-auth": {"owner": ok, "another requester": missing, "tracking R-auth": ok, "tracking R-other": missing, "administrator": ok},
	}
	for method, fn := range calls {
		for who, p := range callers {
			ctx := context.Background()
			if p.Kind != auth.Nobody {
				ctx = h.as(t, p)
			}
			code, ok := want[method][who]
			if !ok {
				code = denied // the method's rule does not let this kind in
				if p.Kind == auth.Nobody {
					code = unauth
				}
			}
			if got := status.Code(fn(ctx)); got != code {
				t.Errorf("%s by %s: %v, want %v", method, who, got, code)
			}
		}
	}

	// A token that expired, or is signed by a key nobody published.
	tok, _, _ := h.signer.Issue(reviewer("flore"), time.Now().Add(-2*time.Hour), time.Hour)
	if _, err := h.api.GetReview(auth.WithToken(context.Background(), tok), &reviewv1.GetReviewRequest{Reference: "R-auth"}); status.Code(err) != unauth {
		t.Errorf("an expired reviewer token: %v", err)
	}
}

// A retried opinion with the same key records nothing twice; the key
// given again with another opinion is refused, naming the field.
func TestARetriedOpinionIsRecordedOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.publish(t, completed("R-idem", adh, "flore"))
	h.waitEvents(t, "review opened", func(evs []bus.Event) bool { return count[*eventsv1.ReviewOpened](evs) == 1 })
	ctx := h.as(t, reviewer("flore"))
	req := &reviewv1.RecordOpinionRequest{Reference: "R-idem", Opinion: eventsv1.Opinion_OPINION_UNFAVORABLE,
		Justification: "station de Nivéole d'été", IdempotencyKey: "form-42"}
	first, err := h.api.RecordOpinion(ctx, req)
	if err != nil || first.Replayed {
		t.Fatalf("first: %v %v", first, err)
	}
	again, err := h.api.RecordOpinion(ctx, req)
	if err != nil || !again.Replayed || again.Review.GetOpinion() != eventsv1.Opinion_OPINION_UNFAVORABLE {
		t.Fatalf("retry: %v %v", again, err)
	}
	req.Opinion = eventsv1.Opinion_OPINION_FAVORABLE
	if _, err := h.api.RecordOpinion(ctx, req); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("the key reused for another opinion: %v", err)
	}
	evs := h.waitEvents(t, "the opinion", func(evs []bus.Event) bool { return count[*eventsv1.OpinionRecorded](evs) >= 1 })
	time.Sleep(300 * time.Millisecond)
	if n := count[*eventsv1.OpinionRecorded](h.events(t)); n != 1 {
		t.Fatalf("%d OpinionRecorded for one opinion retried (%d events)", n, len(evs))
	}
	r, err := h.api.GetReview(ctx, &reviewv1.GetReviewRequest{Reference: "R-idem"})
	if err != nil || len(r.Review.History) != 1 || r.Review.Rows != 40 || len(r.Review.RowsByGeometry) != 2 || len(r.Review.Datasets) != 2 {
		t.Fatalf("review after the retry: %v %v", r, err)
	}
}
