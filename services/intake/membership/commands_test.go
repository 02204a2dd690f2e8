package membership

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/internal/testserver"
)

// sinp runs `sinp member ...` against srv as p (Nobody: without a
// token) and returns what it printed.
type sinp struct {
	t   *testing.T
	srv *testserver.Server
	dir string
}

func (s sinp) run(p auth.Principal, args ...string) (string, error) {
	s.t.Helper()
	vars := map[string]string{
		"SINP_GRPC_ADDR":     s.srv.Addr,
		"SINP_TOKEN_FILE":    filepath.Join(s.dir, "no-saved-token"),
		"SINP_AUTH_KEY_FILE": s.srv.KeyFile,
	}
	if p.Kind != auth.Nobody {
		vars["SINP_TOKEN"] = s.srv.Token(s.t, p)
	}
	var out, errOut bytes.Buffer
	e := &cli.Env{Stdout: &out, Stderr: &errOut, Lookup: config.Map(vars)}
	err := cli.Dispatch(context.Background(), e, "sinp", Commands(), args)
	return out.String(), err
}

// must runs a command that succeeds and reads its JSON into m.
func (s sinp) must(m proto.Message, p auth.Principal, args ...string) {
	s.t.Helper()
	out, err := s.run(p, append(args, "--json")...)
	if err != nil {
		s.t.Fatalf("sinp %s: %v", strings.Join(args, " "), err)
	}
	if err := protojson.Unmarshal([]byte(out), m); err != nil {
		s.t.Fatalf("sinp %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

func TestMemberCommands(t *testing.T) {
	srv := testserver.Start(t)
	dir := t.TempDir()
	s := sinp{t: t, srv: srv, dir: dir}
	admin := testserver.Admin

	file := filepath.Join(dir, "registry.csv")
	if err := os.WriteFile(file, []byte("id_adher;structure;date_demande;proposition;remarque\n"+
		"6;Faunae;2019-04-29;promotion;Demande l'avis des pôles\n"+
		"1;ADRET Environnement;2019-03-11;;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without SINP_TOKEN the import signs as the local operator.
	var imported intakev1.ImportRegistryResponse
	s.must(&imported, auth.Principal{}, "member", "import", file)
	if imported.Created != 2 || len(imported.ProposedForPromotion) != 1 {
		t.Fatalf("import: %v", &imported)
	}
	faunae := imported.ProposedForPromotion[0]
	s.must(&imported, admin, "member", "import", file)
	if imported.Created != 0 || imported.Updated != 0 {
		t.Fatalf("import again: %v", &imported)
	}
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("id_adher;structure;date_demande;proposition;remarque\n6;Faunae;29/04/2019;;\n"), 0o600)
	if _, err := s.run(admin, "member", "import", bad); status.Code(errors.Unwrap(err)) != codes.InvalidArgument || !strings.Contains(err.Error(), "line 2, date_demande") {
		t.Errorf("a bad file: %v", err)
	}

	var added intakev1.CreateStructureResponse
	s.must(&added, admin, "member", "structure", "add", "--name", "Ecosphere", "--type", "bureau d'études", "--poles", "oiseaux, mammiferes",
		"--departements", "34,30", "--contact-name", "Agence Occitanie", "--contact-email", "occitanie@ecosphere.fr")
	eco := added.Structure
	if eco.Status != intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT || strings.Join(eco.Poles, ",") != "mammiferes,oiseaux" || eco.Contact.GetEmail() != "occitanie@ecosphere.fr" {
		t.Fatalf("added: %v", eco)
	}
	if _, err := s.run(admin, "member", "structure", "add", "--name", "Sans type"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("add without --type: %v", err)
	}

	var listed intakev1.ListStructuresResponse
	s.must(&listed, admin, "member", "structure", "list", "--status", "pre-adherent")
	if len(listed.Structures) != 3 {
		t.Errorf("%d pre-adherents listed", len(listed.Structures))
	}
	if _, err := s.run(admin, "member", "structure", "list", "--status", "member"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("an unknown status: %v", err)
	}

	var opened intakev1.OpenPromotionResponse
	s.must(&opened, admin, "member", "promotion", "open", faunae, "--remarks", "proposée par le CT de juin 2020")
	if opened.Promotion.State != intakev1.PromotionState_PROMOTION_STATE_OPEN {
		t.Fatalf("open: %v", &opened)
	}
	var op intakev1.RecordPromotionOpinionResponse
	oiseaux := testserver.Reviewer("oiseaux")
	s.must(&op, oiseaux, "member", "promotion", "opinion", faunae, "--object", "--argument", "Collectif FauneOccitanie: données non versées")
	s.must(&op, oiseaux, "member", "promotion", "opinion", faunae, "--approve")
	s.must(&op, testserver.Reviewer("flore"), "member", "promotion", "opinion", faunae, "--approve", "--pole", "flore")
	if len(op.Promotion.Positions) != 2 {
		t.Errorf("positions: %v", op.Promotion.Positions)
	}
	if _, err := s.run(oiseaux, "member", "promotion", "opinion", faunae, "--approve", "--pole", "flore"); status.Code(errors.Unwrap(err)) != codes.PermissionDenied {
		t.Errorf("a reviewer speaking for another pôle: %v", err)
	}
	if _, err := s.run(oiseaux, "member", "promotion", "opinion", faunae, "--object"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("an objection without argument: %v", err)
	}
	if _, err := s.run(oiseaux, "member", "promotion", "opinion", faunae); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("neither approve nor object: %v", err)
	}
	if _, err := s.run(admin, "member", "promotion", "decide", faunae, "--promote", "--refuse"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("both promote and refuse: %v", err)
	}

	var decided intakev1.DecidePromotionResponse
	if _, err := s.run(admin, "member", "promotion", "decide", faunae, "--promote"); status.Code(errors.Unwrap(err)) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "poissons") {
		t.Errorf("a promotion decided while four pôles are silent, without remarks: %v", err)
	}
	s.must(&decided, admin, "member", "promotion", "decide", faunae, "--promote", "--remarks", "les quatre autres pôles relancés, sans réponse")
	if decided.Structure.Status != intakev1.MembershipStatus_MEMBERSHIP_STATUS_ADHERENT {
		t.Fatalf("decided: %v", decided.Structure)
	}
	var shown intakev1.GetStructureResponse
	s.must(&shown, testserver.Requester(faunae), "member", "show", faunae)
	if len(shown.Structure.History) != 2 || shown.Structure.Promotion.State != intakev1.PromotionState_PROMOTION_STATE_PROMOTED {
		t.Errorf("shown to its requester: %v", shown.Structure)
	}
	if _, err := s.run(testserver.Requester(eco.Id), "member", "show", faunae); status.Code(errors.Unwrap(err)) != codes.NotFound {
		t.Errorf("another structure's requester: %v", err)
	}

	var public intakev1.ListAdherentsResponse
	s.must(&public, auth.Principal{}, "member", "list")
	if len(public.Adherents) != 1 || public.Adherents[0].Name != "Faunae" {
		t.Errorf("public list: %v", &public)
	}

	var withdrawn intakev1.WithdrawMembershipResponse
	s.must(&withdrawn, admin, "member", "withdraw", faunae, "--remarks", "a demandé son retrait")
	if withdrawn.Structure.Status != intakev1.MembershipStatus_MEMBERSHIP_STATUS_WITHDRAWN {
		t.Errorf("withdrawn: %v", withdrawn.Structure)
	}
	var back intakev1.UpdateStructureResponse
	s.must(&back, admin, "member", "structure", "update", faunae, "--readmit", "--remarks", "nouvelle demande", "--type", "bureau d'études")
	if back.Structure.Status != intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT || back.Structure.Type != "bureau d'études" || back.Structure.Name != "Faunae" {
		t.Errorf("re-admitted: %v", back.Structure)
	}
	if _, err := s.run(admin, "member", "show"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("show without id: %v", err)
	}
	if _, err := s.run(admin, "member", "promotion", "close", faunae); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("an unknown subcommand: %v", err)
	}
}

// What a person reads: every pôle, the silent ones too, objections with
// their argument, and the history.
func TestHumanOutput(t *testing.T) {
	s := &intakev1.Structure{Id: "st-abc", Name: "Faunae", Status: intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT, RegistryId: "6",
		RequestedAt: timestamppb.New(testserver.T0),
		History:     []*intakev1.MembershipChange{{At: timestamppb.New(testserver.T0), To: intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT, By: "operator:op"}},
		Promotion: &intakev1.Promotion{State: intakev1.PromotionState_PROMOTION_STATE_OPEN, OpenedAt: timestamppb.New(testserver.T0), OpenedBy: "administrator:dreal-1",
			Positions: []*intakev1.PolePosition{{Pole: "oiseaux", Approves: true, At: timestamppb.New(testserver.T0)},
				{Pole: "flore", Argument: "aucune donnée flore", At: timestamppb.New(testserver.T0)}}}}
	var b bytes.Buffer
	printStructure(&b, s)
	out := b.String()
	for _, want := range []string{"st-abc  Faunae  [pre-adherent]", "registry number  6", "asked to join    2026-03-02", "pôles            all",
		"(entered) -> pre-adherent", "promotion open", "oiseaux              approves", "flore                OBJECTS", "aucune donnée flore",
		"poissons             no position yet", "reptiles_amphibiens  no position yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestLookupOfAnUnknownStructure(t *testing.T) {
	srv := testserver.Start(t)
	if _, err := Lookup(context.Background(), srv.DB, "st-nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup of no structure: %v", err)
	}
}
