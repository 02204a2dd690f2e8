package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/shareddata"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
)

// platform is a running intake, extractor and review on a seeded store,
// with the registry of June 2020 loaded, one structure promoted, and the
// accounts the tests act as.
type platform struct {
	*lifecycle
	conn      *grpc.ClientConn
	intake    intakev1.IntakeServiceClient
	accounts  intakev1.AccountServiceClient
	admin     string // tokens
	adherent  string // a requester of an adherent structure
	other     string // a requester of a pre-adherent structure
	reviewer  string
	refreshA  string
	structA   string
	structB   string
	passwords map[string]string
}

const box = "POLYGON((540000 6240000,610000 6240000,610000 6310000,540000 6310000,540000 6240000))"

func (l *lifecycle) sinpWith(env []string, token string, args ...string) (string, error) {
	l.t.Helper()
	e := append(slices.Clone(l.env), env...)
	if token != "" {
		e = append(e, "SINP_TOKEN="+token)
	}
	return run(l.t, e, append(args, "--addr", l.addr, "--json")...)
}

func newPlatform(t *testing.T, env ...string) *platform {
	csv := shareddata.Require(t, "registry", "pre-adherents-2020.csv")
	l := newLifecycle(t)
	l.services = "intake,extractor,review,delivery"
	l.env = append(l.env, env...)
	l.start()
	p := &platform{lifecycle: l, passwords: map[string]string{}}
	var err error
	if p.conn, err = grpc.NewClient(l.addr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.conn.Close() })
	p.intake, p.accounts = intakev1.NewIntakeServiceClient(p.conn), intakev1.NewAccountServiceClient(p.conn)

	// The operator bootstraps: the registry, the DREAL's account.
	if out, err := l.sinpWith(nil, "", "member", "import", csv); err != nil || !strings.Contains(out, "proposed_for_promotion") {
		t.Fatalf("member import: %s %v", out, err)
	}
	p.addUser("dreal@occitanie.gouv.fr", "administrator", "", "", "")
	p.admin, _ = p.signIn("dreal@occitanie.gouv.fr")

	out, err := l.sinpWith(nil, p.admin, "member", "structure", "list", "--status", "pre-adherent")
	var list intakev1.ListStructuresResponse
	if err != nil || protojson.Unmarshal([]byte(out), &list) != nil || len(list.Structures) < 41 {
		t.Fatalf("structure list: %.300s %v", out, err)
	}
	p.structA, p.structB = list.Structures[0].Id, list.Structures[1].Id
	for _, args := range [][]string{{"member", "promotion", "open", p.structA}, {"member", "promotion", "decide", p.structA, "--promote", "--remarks", "proposé par le comité technique de juin 2020"}} {
		if out, err := l.sinpWith(nil, p.admin, args...); err != nil {
			t.Fatalf("%v: %s %v", args, out, err)
		}
	}
	p.addUser("anne@garonne-etudes.fr", "requester", "", p.structA, p.admin)
	p.addUser("bruno@autre-bureau.fr", "requester", "", p.structB, p.admin)
	p.addUser("lea@cbnpmp.fr", "reviewer", "flore", "", p.admin)
	p.adherent, p.refreshA = p.signIn("anne@garonne-etudes.fr")
	p.other, _ = p.signIn("bruno@autre-bureau.fr")
	p.reviewer, _ = p.signIn("lea@cbnpmp.fr")
	return p
}

func (p *platform) addUser(email, kind, pole, structure, token string) {
	p.t.Helper()
	pw := "motdepasse-" + strings.Split(email, "@")[0] + "-2026"
	p.passwords[email] = pw
	args := []string{"user", "add", "--email", email, "--name", strings.Split(email, "@")[0], "--kind", kind}
	if pole != "" {
		args = append(args, "--pole", pole)
	}
	if structure != "" {
		args = append(args, "--structure", structure)
	}
	if out, err := p.sinpWith([]string{"SINP_NEW_PASSWORD=" + pw}, token, args...); err != nil {
		p.t.Fatalf("user add %s: %s %v", email, out, err)
	}
}

func (p *platform) signIn(email string) (access, refresh string) {
	p.t.Helper()
	resp, err := p.accounts.SignIn(context.Background(), &intakev1.SignInRequest{Email: email, Password: p.passwords[email]})
	if err != nil {
		p.t.Fatalf("sign in %s: %v", email, err)
	}
	return resp.AccessToken, resp.RefreshToken
}

func as(token string) context.Context {
	if token == "" {
		return context.Background()
	}
	return auth.WithToken(context.Background(), token)
}

func (p *platform) submit(token string, req *intakev1.SubmitRequestRequest) (*intakev1.SubmitRequestResponse, error) {
	return p.intake.SubmitRequest(as(token), req)
}

func boxRequest() *intakev1.SubmitRequestRequest {
	return &intakev1.SubmitRequestRequest{Purpose: "Étude d'impact d'un parc photovoltaïque sur la commune",
		Perimeter:       &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Wkt{Wkt: box}, Srid: 2154},
		Options:         &eventsv1.ExtractionOptions{SplitByGeometryType: true},
		CharterAccepted: true}
}

// Requests filed from the CLI and the API, estimated and instructed, as
// the DREAL, requesters and an account-less requester would, and attacked
// as a requester, a tracking-token holder and a reviewer would: each sees
// and does only what is theirs; a revoked token is refused by every
// service; the instruction follows the registry at its moment; the
// estimate is what the extraction delivers.
func TestIntakeFromSubmissionToExtraction(t *testing.T) {
	p := newPlatform(t)
	ctx := context.Background()

	// An adherent files from the CLI.
	out, err := p.sinpWith(nil, p.adherent, "request", "submit", "--perimeter-wkt", box, "--purpose", "Étude d'impact d'un parc photovoltaïque",
		"--accept-charter", "--split", "--key", "form-1")
	var filed intakev1.SubmitRequestResponse
	if err != nil || protojson.Unmarshal([]byte(out), &filed) != nil || filed.Request.State != intakev1.RequestState_REQUEST_STATE_DEPOSITED {
		t.Fatalf("request submit: %s %v", out, err)
	}
	refA := filed.Request.Reference
	if filed.Request.Requester.GetMembership() != eventsv1.Membership_MEMBERSHIP_ADHERENT || filed.Request.Requester.GetAccountId() == "" {
		t.Fatalf("the requester is %v: its identity and membership come from its account and the registry", filed.Request.Requester)
	}
	// Submitted again with the same key: the same request, no new event.
	again, err := p.sinpWith(nil, p.adherent, "request", "submit", "--perimeter-wkt", box, "--purpose", "Étude d'impact d'un parc photovoltaïque",
		"--accept-charter", "--split", "--key", "form-1")
	if err != nil || !strings.Contains(again, refA) || !strings.Contains(again, `"replayed":true`) {
		t.Fatalf("resubmitted: %s %v", again, err)
	}
	// An account-less requester claims adherence; it is a non-adherent with a tracking token.
	anon := boxRequest()
	anon.Declared = &intakev1.DeclaredRequester{Name: "Paul Durand", Email: "paul@asso-nature.org", StructureName: "Association Nature"}
	resp, err := p.submit("", anon)
	if err != nil || resp.TrackingToken == "" || resp.Request.Requester.GetMembership() != eventsv1.Membership_MEMBERSHIP_NON_ADHERENT {
		t.Fatalf("account-less submission: %v %v", resp, err)
	}
	refN, tracking := resp.Request.Reference, resp.TrackingToken
	respB, err := p.submit(p.other, boxRequest())
	if err != nil {
		t.Fatal(err)
	}
	refB := respB.Request.Reference

	t.Run("who may call what", func(t *testing.T) {
		expired, _, _ := mustSigner(t, p).Issue(auth.Principal{Kind: auth.Administrator, Subject: "acc-old"}, time.Now().Add(-2*time.Hour), time.Hour)
		callers := map[string]string{"owner": p.adherent, "another requester": p.other, "tracking token of another request": tracking,
			"reviewer": p.reviewer, "administrator": p.admin, "nobody": "", "expired administrator": expired}
		ok, missing, denied, unauth := codes.OK, codes.NotFound, codes.PermissionDenied, codes.Unauthenticated
		for who, tok := range callers {
			want := map[string]codes.Code{
				"get": map[string]codes.Code{"owner": ok, "another requester": missing, "tracking token of another request": missing,
					"reviewer": denied, "administrator": ok, "nobody": unauth, "expired administrator": unauth}[who],
				"cancel": map[string]codes.Code{"owner": ok, "another requester": missing, "tracking token of another request": missing,
					"reviewer": denied, "administrator": ok, "nobody": unauth, "expired administrator": unauth}[who],
				"instruct": map[string]codes.Code{"owner": denied, "another requester": denied, "tracking token of another request": denied,
					"reviewer": denied, "administrator": ok, "nobody": unauth, "expired administrator": unauth}[who],
				"estimate": map[string]codes.Code{"owner": denied, "another requester": denied, "tracking token of another request": denied,
					"reviewer": denied, "administrator": ok, "nobody": unauth, "expired administrator": unauth}[who],
			}
			_, err := p.intake.GetRequest(as(tok), &intakev1.GetRequestRequest{Reference: refA})
			checkCode(t, who, "GetRequest of another's request", err, want["get"])
			// Cancel and instruct a request nobody may touch but the owner and the DREAL: R-B's, as A would.
			if who != "owner" && who != "administrator" {
				_, err = p.intake.CancelRequest(as(tok), &intakev1.CancelRequestRequest{Reference: refA})
				checkCode(t, who, "CancelRequest", err, want["cancel"])
				_, err = p.intake.InstructRequest(as(tok), &intakev1.InstructRequestRequest{Reference: refA, Accept: true})
				checkCode(t, who, "InstructRequest", err, want["instruct"])
				_, err = p.intake.RetryExtraction(as(tok), &intakev1.RetryExtractionRequest{Reference: refA})
				checkCode(t, who, "RetryExtraction", err, map[bool]codes.Code{true: want["instruct"], false: want["instruct"]}[true])
			}
			_, err = p.intake.EstimateRequest(as(tok), &intakev1.EstimateRequestRequest{Reference: refA})
			checkCode(t, who, "EstimateRequest", err, want["estimate"])
		}
		lists := map[string][]string{"owner": {refA}, "another requester": {refB}, "tracking token of another request": {refN}}
		for who, refs := range lists {
			resp, err := p.intake.ListRequests(as(callers[who]), &intakev1.ListRequestsRequest{})
			var got []string
			for _, r := range resp.GetRequests() {
				got = append(got, r.Reference)
			}
			if err != nil || !slices.Equal(got, refs) {
				t.Errorf("%s lists %v (%v), want %v", who, got, err, refs)
			}
		}
		if r, err := p.intake.GetRequest(as(tracking), &intakev1.GetRequestRequest{Reference: refN}); err != nil || r.Request.Reference != refN {
			t.Errorf("the tracking token does not open its own request: %v", err)
		}
		// A tracking token whose request claim was changed is not one.
		forged := strings.Replace(tracking, tracking[7:20], strings.ToUpper(tracking[7:20]), 1)
		if _, err := p.intake.GetRequest(as(forged), &intakev1.GetRequestRequest{Reference: refA}); status.Code(err) != unauth {
			t.Errorf("a tampered tracking token: %v", err)
		}
	})

	t.Run("bad requests name their field", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			edit  func(*intakev1.SubmitRequestRequest)
			field string
		}{
			{"an unknown commune", func(r *intakev1.SubmitRequestRequest) {
				r.Perimeter = &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Areas{Areas: &intakev1.AreaList{Areas: []*eventsv1.AreaRef{{Kind: "commune", Code: "31555"}, {Kind: "commune", Code: "75056"}}}}}
			}, "perimeter.areas[1].code"},
			{"lon/lat given as Lambert-93", func(r *intakev1.SubmitRequestRequest) {
				r.Perimeter = &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((1.40 43.58,1.48 43.58,1.48 43.64,1.40 43.64,1.40 43.58))"}, Srid: 2154}
			}, "perimeter.srid"},
			{"outside the region", func(r *intakev1.SubmitRequestRequest) {
				r.Perimeter = &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((2.30 48.84,2.38 48.84,2.38 48.88,2.30 48.88,2.30 48.84))"}, Srid: 4326}
			}, "perimeter.wkt"},
			{"an unknown pôle", func(r *intakev1.SubmitRequestRequest) {
				r.Scope = &eventsv1.TaxonomicScope{Poles: []string{"bryophytes"}}
			}, "scope.poles[0]"},
			{"the charter refused", func(r *intakev1.SubmitRequestRequest) { r.CharterAccepted = false }, "charter_accepted"},
		} {
			req := boxRequest()
			c.edit(req)
			_, err := p.submit(p.other, req)
			found := false
			for _, v := range grpcserver.Violations(err) {
				found = found || v.Field == c.field
			}
			if status.Code(err) != codes.InvalidArgument || !found {
				t.Errorf("%s: %v, want InvalidArgument naming %s", c.name, err, c.field)
			}
		}
	})

	t.Run("the estimate is what the extraction delivers", func(t *testing.T) {
		out, err := p.sinpWith(nil, p.admin, "request", "estimate", refA)
		var est intakev1.EstimateRequestResponse
		if err != nil || protojson.Unmarshal([]byte(out), &est) != nil || !est.F2Entitled || est.RowsSelected == 0 {
			t.Fatalf("request estimate: %s %v", out, err)
		}
		if out, err := p.sinpWith(nil, p.admin, "request", "instruct", refA, "--accept", "--key", "instr-1"); err != nil {
			t.Fatalf("request instruct: %s %v", out, err)
		}
		// After instruction the structure leaves the registry: the request keeps its F2.
		if out, err := p.sinpWith(nil, p.admin, "member", "withdraw", p.structA, "--remarks", "convention non renouvelée"); err != nil {
			t.Fatalf("member withdraw: %s %v", out, err)
		}
		evs := p.waitFor("the extraction of "+refA, func(evs []bus.Event) bool { return completion(evs, refA) != nil })
		done := completion(evs, refA)
		if !done.GetF2Entitled() || len(done.GetSensitivePoles()) == 0 {
			t.Fatalf("extraction of %s: entitled %v, sensitive pôles %v", refA, done.GetF2Entitled(), done.GetSensitivePoles())
		}
		got := map[string]int64{}
		for _, part := range done.GetPartitions() {
			got[partKey(part.GetKey().GetKind(), part.GetKey().GetPole(), part.GetKey().GetGeometryType())] += part.GetRows()
		}
		want := map[string]int64{}
		for _, r := range est.Rows {
			if r.Rows > 0 {
				want[partKey(r.Kind, r.Pole, r.GeometryType)] += r.Rows
			}
		}
		for k := range got {
			if got[k] == 0 {
				delete(got, k)
			}
		}
		if len(got) != len(want) {
			t.Errorf("partitions delivered %v, estimated %v", got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s: %d rows estimated, %d delivered", k, n, got[k])
			}
		}
		if est.RowsF1 != done.GetRowsF1() || est.RowsF2 != done.GetRowsF2() || est.RowsSelected != done.GetRowsSelected() {
			t.Errorf("estimate F1 %d F2 %d selected %d; delivered %d %d %d", est.RowsF1, est.RowsF2, est.RowsSelected,
				done.GetRowsF1(), done.GetRowsF2(), done.GetRowsSelected())
		}
		// The status follows the extraction and the reviews.
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := p.intake.GetRequest(as(p.adherent), &intakev1.GetRequestRequest{Reference: refA})
			if err == nil && r.Request.State == intakev1.RequestState_REQUEST_STATE_EXTRACTED && len(r.Request.Deliverables) == 1+len(done.GetSensitivePoles()) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after its extraction: %v %v", refA, r, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// A request of the same structure instructed now: F1 only.
		resp, err := p.submit(p.adherent, boxRequest())
		if err != nil {
			t.Fatal(err)
		}
		ins, err := p.intake.InstructRequest(as(p.admin), &intakev1.InstructRequestRequest{Reference: resp.Request.Reference, Accept: true})
		if err != nil || ins.Request.F2Entitled {
			t.Fatalf("instructed after the withdrawal: entitled %v (%v)", ins.GetRequest().GetF2Entitled(), err)
		}
	})

	t.Run("exactly one RequestInstructed when the process dies after publishing it", func(t *testing.T) {
		// Instructed, and killed once JetStream has the event, before the outbox row is marked.
		p.published()
		p.kill()
		p.start("SINP_TEST_KILL_AFTER_PUBLISH=intake", "SINP_TEST_KILL_SUBJECT="+bus.SubjectRequestInstructed)
		_, _ = p.intake.InstructRequest(as(p.admin), &intakev1.InstructRequestRequest{Reference: refB, Accept: true, IdempotencyKey: "instr-b"})
		died := p.waitDeath(30 * time.Second)
		if st, ok := died.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
			t.Fatalf("the process was not killed after publishing: %v\n%s", died.ProcessState, p.logs.String())
		}
		p.start()
		// The DREAL's client retries the call it got no answer to.
		r, err := p.intake.InstructRequest(as(p.admin), &intakev1.InstructRequestRequest{Reference: refB, Accept: true, IdempotencyKey: "instr-b"})
		if err != nil || !r.Replayed {
			t.Fatalf("the retried instruction: %v %v", r, err)
		}
		p.waitFor("the extraction of "+refB, func(evs []bus.Event) bool { return completion(evs, refB) != nil })
		time.Sleep(500 * time.Millisecond)
		n := 0
		for _, ev := range p.events() {
			if e, ok := ev.(*eventsv1.RequestInstructed); ok && e.GetReference() == refB {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d RequestInstructed for one instruction", n)
		}
	})

	t.Run("a signed-out session's token is refused by every service", func(t *testing.T) {
		if _, err := p.accounts.SignOut(ctx, &intakev1.SignOutRequest{RefreshToken: p.refreshA}); err != nil {
			t.Fatal(err)
		}
		review := reviewv1.NewReviewServiceClient(p.conn)
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, errIntake := p.intake.GetRequest(as(p.adherent), &intakev1.GetRequestRequest{Reference: refA})
			_, errReview := review.GetReleasePlan(as(p.adherent), &reviewv1.GetReleasePlanRequest{Reference: refA})
			if status.Code(errIntake) == codes.Unauthenticated && status.Code(errReview) == codes.Unauthenticated {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("5s after signing out: intake %v, review %v", errIntake, errReview)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := p.accounts.Refresh(ctx, &intakev1.RefreshRequest{RefreshToken: p.refreshA}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("refresh after sign-out: %v", err)
		}
	})

	t.Run("failed sign-ins are rate limited", func(t *testing.T) {
		var last error
		for range 6 {
			_, last = p.accounts.SignIn(ctx, &intakev1.SignInRequest{Email: "bruno@autre-bureau.fr", Password: "not the password"})
		}
		if status.Code(last) != codes.ResourceExhausted {
			t.Fatalf("the sixth failed sign-in: %v", last)
		}
		if _, err := p.accounts.SignIn(ctx, &intakev1.SignInRequest{Email: "bruno@autre-bureau.fr", Password: p.passwords["bruno@autre-bureau.fr"]}); status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("the right password while throttled: %v", err)
		}
	})
}

func checkCode(t *testing.T, who, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s by %s: %v, want %v", what, who, err, want)
	}
}

func mustSigner(t *testing.T, p *platform) auth.Signer {
	t.Helper()
	for _, kv := range p.env {
		if dir, ok := strings.CutPrefix(kv, "SINP_DATA_DIR="); ok {
			s, err := auth.ReadKey(dir + "/auth/signing.key")
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatal("no data dir")
	return auth.Signer{}
}

func completion(evs []bus.Event, ref string) *eventsv1.ExtractionCompleted {
	for _, ev := range evs {
		if d, ok := ev.(*eventsv1.ExtractionCompleted); ok && d.GetReference() == ref {
			return d
		}
	}
	return nil
}

func partKey(kind eventsv1.FileKind, pole string, g eventsv1.GeometryType) string {
	b, _ := json.Marshal([]string{kind.String(), pole, g.String()})
	return string(b)
}
