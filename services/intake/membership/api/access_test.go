package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"sort"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/api"
	"sinp.occitanie.fr/services/intake/membership/app"
	"sinp.occitanie.fr/services/intake/membership/internal/testserver"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// Every method has a rule; nothing is reachable by default.
func TestEveryMethodDeclaresWhoMayCallIt(t *testing.T) {
	for _, m := range intakev1.MembershipService_ServiceDesc.Methods {
		full := "/" + intakev1.MembershipService_ServiceDesc.ServiceName + "/" + m.MethodName
		if _, ok := api.Access[full]; !ok {
			t.Errorf("%s has no access rule", full)
		}
	}
	if len(api.Access) != len(intakev1.MembershipService_ServiceDesc.Methods) {
		t.Errorf("%d rules for %d methods", len(api.Access), len(intakev1.MembershipService_ServiceDesc.Methods))
	}
}

// Every method × every kind of caller, as an attacker would try: another
// structure's id, another pôle, a kind the method does not let in. A
// requester reaches its own structure only and another answers as
// missing; a reviewer speaks for its own pôle only.
func TestWhoMayCallWhat(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	own := mustCreate(t, srv.App, "Faunae")
	other := mustCreate(t, srv.App, "Ecosphere")
	if _, err := srv.App.OpenPromotion(ctx, "dreal", own.ID, ""); err != nil {
		t.Fatal(err)
	}

	callers := map[string]auth.Principal{
		"nobody":                {},
		"requester of it":       testserver.Requester(own.ID),
		"requester of another":  testserver.Requester(other.ID),
		"requester of none":     testserver.Requester(""),
		"tracking":              testserver.Tracking,
		"reviewer oiseaux":      testserver.Reviewer("oiseaux"),
		"reviewer flore":        testserver.Reviewer("flore"),
		"reviewer unknown pôle": testserver.Reviewer("lichens"),
		"administrator":         testserver.Admin,
		"operator":              testserver.Operator,
		"service":               testserver.Service,
	}
	cl := srv.Client
	// Each call prepares what it acts on through the application, so that
	// calls do not depend on each other's order.
	calls := map[string]func(ctx context.Context) error{
		"CreateStructure": func(ctx context.Context) error {
			_, err := cl.CreateStructure(ctx, &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{Name: "Nouvelle", Type: "association"}})
			return err
		},
		"UpdateStructure": func(ctx context.Context) error {
			_, err := cl.UpdateStructure(ctx, &intakev1.UpdateStructureRequest{Structure: &intakev1.Structure{Id: own.ID, Remarks: "edited"}})
			return err
		},
		"GetStructure": func(ctx context.Context) error {
			_, err := cl.GetStructure(ctx, &intakev1.GetStructureRequest{Id: own.ID})
			return err
		},
		"ListStructures": func(ctx context.Context) error {
			resp, err := cl.ListStructures(ctx, &intakev1.ListStructuresRequest{})
			if p := principalOf(ctx, callers); err == nil && p.Kind == auth.Requester {
				for _, s := range resp.Structures {
					if s.Id != p.Structure {
						return status.Errorf(codes.Internal, "a requester of %q listed %s", p.Structure, s.Id)
					}
				}
				if p.Structure == own.ID && len(resp.Structures) != 1 {
					return status.Errorf(codes.Internal, "a requester does not see its own structure")
				}
			}
			return err
		},
		"OpenPromotion": func(ctx context.Context) error {
			s := mustCreate(t, srv.App, "À promouvoir")
			_, err := cl.OpenPromotion(ctx, &intakev1.OpenPromotionRequest{StructureId: s.ID})
			return err
		},
		"RecordPromotionOpinion own pôle": func(ctx context.Context) error {
			_, err := cl.RecordPromotionOpinion(ctx, &intakev1.RecordPromotionOpinionRequest{StructureId: own.ID, Approves: true})
			return err
		},
		"RecordPromotionOpinion for oiseaux": func(ctx context.Context) error {
			_, err := cl.RecordPromotionOpinion(ctx, &intakev1.RecordPromotionOpinionRequest{StructureId: own.ID, Pole: "oiseaux", Approves: true})
			return err
		},
		"DecidePromotion": func(ctx context.Context) error {
			s := mustCreate(t, srv.App, "À décider")
			if _, err := srv.App.OpenPromotion(context.Background(), "dreal", s.ID, ""); err != nil {
				t.Fatal(err)
			}
			_, err := cl.DecidePromotion(ctx, &intakev1.DecidePromotionRequest{StructureId: s.ID, Promote: true,
				Remarks: "aucun pôle n'a répondu en deux mois"})
			return err
		},
		"WithdrawMembership": func(ctx context.Context) error {
			s := mustCreate(t, srv.App, "À retirer")
			_, err := cl.WithdrawMembership(ctx, &intakev1.WithdrawMembershipRequest{StructureId: s.ID})
			return err
		},
		"ListAdherents": func(ctx context.Context) error {
			_, err := cl.ListAdherents(ctx, &intakev1.ListAdherentsRequest{})
			return err
		},
		"ImportRegistry": func(ctx context.Context) error {
			_, err := cl.ImportRegistry(ctx, &intakev1.ImportRegistryRequest{Csv: []byte("id_adher;structure;date_demande;proposition;remarque\n6;Faunae;2019-04-29;promotion;\n")})
			return err
		},
	}
	ok, denied, missing, unauth, invalid := codes.OK, codes.PermissionDenied, codes.NotFound, codes.Unauthenticated, codes.InvalidArgument
	everyone := func(c codes.Code) map[string]codes.Code {
		m := map[string]codes.Code{}
		for who := range callers {
			m[who] = c
		}
		return m
	}
	want := map[string]map[string]codes.Code{
		"CreateStructure": {"administrator": ok},
		"UpdateStructure": {"administrator": ok},
		"GetStructure": {"administrator": ok, "reviewer oiseaux": ok, "reviewer flore": ok, "reviewer unknown pôle": ok,
			"requester of it": ok, "requester of another": missing, "requester of none": missing},
		"ListStructures": {"administrator": ok, "reviewer oiseaux": ok, "reviewer flore": ok, "reviewer unknown pôle": ok,
			"requester of it": ok, "requester of another": ok, "requester of none": ok},
		"OpenPromotion":                      {"administrator": ok},
		"RecordPromotionOpinion own pôle":    {"reviewer oiseaux": ok, "reviewer flore": ok, "reviewer unknown pôle": invalid},
		"RecordPromotionOpinion for oiseaux": {"reviewer oiseaux": ok, "reviewer flore": denied, "reviewer unknown pôle": denied},
		"DecidePromotion":                    {"administrator": ok},
		"WithdrawMembership":                 {"administrator": ok},
		"ListAdherents":                      everyone(ok),
		"ImportRegistry":                     {"administrator": ok, "operator": ok},
	}
	methods := make([]string, 0, len(calls))
	for m := range calls {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, method := range methods {
		for who, p := range callers {
			code, ok := want[method][who]
			if !ok {
				code = denied // the method's rule does not let this kind in
				if p.Kind == auth.Nobody {
					code = unauth
				}
			}
			if got := status.Code(calls[method](withCaller(srv.As(t, p), who))); got != code {
				t.Errorf("%s by %s: %v, want %v", method, who, got, code)
			}
		}
	}

	// A token that expired, one signed by a key nobody trusts, and a
	// forged one: refused, even on the public list.
	expired, _, _ := srv.Signer.Issue(testserver.Admin, time.Now().Add(-2*time.Hour), time.Hour)
	for name, tok := range map[string]string{"expired": expired, "garbage": "sinp1.eyJ9.AAAA", "foreign": foreignToken(t)} {
		actx := auth.WithToken(context.Background(), tok)
		if _, err := cl.GetStructure(actx, &intakev1.GetStructureRequest{Id: own.ID}); status.Code(err) != unauth {
			t.Errorf("an %s token on GetStructure: %v", name, err)
		}
		if _, err := cl.ListAdherents(actx, &intakev1.ListAdherentsRequest{}); status.Code(err) != unauth {
			t.Errorf("an %s token on ListAdherents: %v", name, err)
		}
	}

	// What a requester sees of its own structure names no agent.
	resp, err := cl.GetStructure(srv.As(t, testserver.Requester(own.ID)), &intakev1.GetStructureRequest{Id: own.ID})
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.Structure.Promotion; p.OpenedBy != "" || len(p.Positions) == 0 || p.Positions[0].Reviewer != "" || resp.Structure.History[0].By != "" {
		t.Errorf("a requester sees agents: %v", resp.Structure)
	}
}

type callerKey struct{}

func withCaller(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, callerKey{}, who)
}

func principalOf(ctx context.Context, callers map[string]auth.Principal) auth.Principal {
	who, _ := ctx.Value(callerKey{}).(string)
	return callers[who]
}

// foreignToken is an administrator's token signed by a key the server
// does not trust.
func foreignToken(t *testing.T) string {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := auth.NewSigner(key).Issue(testserver.Admin, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustCreate(t *testing.T, svc *app.Service, name string) *struct{ ID string } {
	t.Helper()
	st, err := svc.Create(context.Background(), "administrator:setup", app.NewStructure{Profile: rule.Profile{Name: name, Type: "association"}})
	if err != nil {
		t.Fatal(err)
	}
	return &struct{ ID string }{st.ID}
}
