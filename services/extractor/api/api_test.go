package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/observations/storetest"
	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	"sinp.occitanie.fr/services/extractor/api"
	"sinp.occitanie.fr/services/extractor/extraction"
)

const box = "POLYGON((555000 6260000,595000 6260000,595000 6300000,555000 6300000,555000 6260000))"

// client is the API served by a real gRPC server with the platform's
// authentication, on the seeded store, and a way to call it as anyone.
type client struct {
	extractorv1.ExtractorServiceClient
	signer auth.Signer
}

func serve(t *testing.T) *client {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner(key)
	v := auth.NewVerifier()
	v.AddKey(signer.Public())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := grpcserver.New(log, (&auth.Authenticator{Verifier: v, Rules: api.Access}).Authenticate)
	extractorv1.RegisterExtractorServiceServer(srv, api.NewServer(storetest.Pool(t), log))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{ExtractorServiceClient: extractorv1.NewExtractorServiceClient(conn), signer: signer}
}

// as is a context calling as p (nobody: no token).
func (c *client) as(t *testing.T, p auth.Principal) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if p.Kind == auth.Nobody {
		return ctx
	}
	tok, _, err := c.signer.Issue(p, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithToken(ctx, tok)
}

var (
	admin   = auth.Principal{Kind: auth.Administrator, Subject: "dreal-1"}
	service = auth.Principal{Kind: auth.Service, Subject: "intake"}
)

// Every caller × every method: the DREAL and the services estimate and
// check; a requester sees the territory only; a tracking token, a
// reviewer and an operator get nothing; no token is unauthenticated.
func TestWhoMayCallWhat(t *testing.T) {
	c := serve(t)
	callers := map[string]auth.Principal{
		"nobody":        {},
		"requester":     {Kind: auth.Requester, Subject: "acc-1", Structure: "st-1"},
		"tracking":      {Kind: auth.Tracking, Subject: "trk-1", Request: "R-1"},
		"reviewer":      {Kind: auth.Reviewer, Subject: "rev-1", Pole: "oiseaux"},
		"administrator": admin,
		"operator":      {Kind: auth.Operator, Subject: "op-1"},
		"service":       service,
	}
	calls := map[string]func(ctx context.Context) error{
		"EstimateExtraction": func(ctx context.Context) error {
			_, err := c.EstimateExtraction(ctx, &extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: box}})
			return err
		},
		"CheckScope": func(ctx context.Context) error {
			_, err := c.CheckScope(ctx, &extractorv1.CheckScopeRequest{Poles: []string{"oiseaux"}})
			return err
		},
		"GetTerritory": func(ctx context.Context) error {
			_, err := c.GetTerritory(ctx, &extractorv1.GetTerritoryRequest{})
			return err
		},
	}
	allowed := map[string][]string{
		"EstimateExtraction": {"administrator", "service"},
		"CheckScope":         {"service", "administrator"},
		"GetTerritory":       {"service", "administrator", "requester"},
	}
	for method, call := range calls {
		for who, p := range callers {
			want := codes.PermissionDenied
			switch {
			case slices.Contains(allowed[method], who):
				want = codes.OK
			case p.Kind == auth.Nobody:
				want = codes.Unauthenticated
			}
			if got := status.Code(call(c.as(t, p))); got != want {
				t.Errorf("%s by %s: %v, want %v", method, who, got, want)
			}
		}
	}
	for _, m := range extractorv1.ExtractorService_ServiceDesc.Methods {
		if _, ok := calls[m.MethodName]; !ok {
			t.Errorf("%s is not in the table", m.MethodName)
		}
	}
}

// What the API answers is extraction.Estimate's count, key by key.
func TestEstimateThroughTheAPI(t *testing.T) {
	c := serve(t)
	req := &extractorv1.EstimateExtractionRequest{
		Perimeter:  &eventsv1.Perimeter{Wkt: box},
		Scope:      &eventsv1.TaxonomicScope{Poles: []string{"oiseaux", "flore", "mammiferes"}},
		Period:     &eventsv1.Period{From: "2000-01-01"},
		Options:    &eventsv1.ExtractionOptions{SplitByGeometryType: true, AttachedGeometry: eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE},
		F2Entitled: true,
	}
	resp, err := c.EstimateExtraction(c.as(t, admin), req)
	if err != nil {
		t.Fatal(err)
	}
	spec := extraction.SpecFrom(req.Perimeter, req.Scope, req.Period, req.Options)
	spec.F2Entitled = true
	want, err := extraction.Estimate(context.Background(), spec, extraction.Options{DB: storetest.Pool(t)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.RowsSelected != want.Selected || resp.RowsF1 != want.F1 || resp.RowsF1Blurred != want.F1Blurred || resp.RowsF2 != want.F2 ||
		resp.RowsWithheld != want.Withheld || resp.RowsWithheldF1 != want.WithheldF1 || !slices.Equal(resp.SensitivePoles, want.SensitivePoles) {
		t.Errorf("API %v, Estimate %+v %v", resp, want.Counts, want.SensitivePoles)
	}
	if want.F2 == 0 || want.F1Blurred == 0 || len(want.SensitivePoles) == 0 {
		t.Fatalf("the case proves nothing: %+v", want.Counts)
	}
	if len(resp.Partitions) != len(want.Partitions) {
		t.Fatalf("%d partitions through the API, %d estimated", len(resp.Partitions), len(want.Partitions))
	}
	var sum int64
	for i, p := range resp.Partitions {
		w := want.Partitions[i]
		k := w.Key.Message()
		if p.Rows != w.Rows || p.Key.Kind != k.Kind || p.Key.Pole != k.Pole || p.Key.GeometryType != k.GeometryType ||
			p.Key.GeometryType == eventsv1.GeometryType_GEOMETRY_TYPE_UNSPECIFIED {
			t.Errorf("partition %d: %v, want %s with %d rows", i, p, w.Name, w.Rows)
		}
		sum += p.Rows
	}
	if sum != resp.RowsF1+resp.RowsF2 {
		t.Errorf("partitions hold %d rows, F1 and F2 %d", sum, resp.RowsF1+resp.RowsF2)
	}
}

// The territory as a requester's form needs it.
func TestTerritoryThroughTheAPI(t *testing.T) {
	c := serve(t)
	resp, err := c.GetTerritory(c.as(t, auth.Principal{Kind: auth.Requester, Subject: "acc-1"}), &extractorv1.GetTerritoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.RegionWkt, "MULTIPOLYGON") && !strings.HasPrefix(resp.RegionWkt, "POLYGON") {
		t.Errorf("region %.60s", resp.RegionWkt)
	}
	if len(resp.Poles) != 6 || resp.Poles[0] != "flore" {
		t.Errorf("pôles %v", resp.Poles)
	}
	check, err := c.CheckScope(c.as(t, service), &extractorv1.CheckScopeRequest{
		Areas: []*eventsv1.AreaRef{{Kind: "departement", Code: "31"}, {Kind: "departement", Code: "75"}},
		Poles: []string{"oiseaux", "cetaces"}, CdRefs: []int64{1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(check.UnknownAreas) != 1 || check.UnknownAreas[0].Code != "75" || !slices.Equal(check.UnknownPoles, []string{"cetaces"}) ||
		!slices.Equal(check.UnknownCdRefs, []int64{1}) || check.AreasKm2 < 6000 || check.AreasKm2 > 6700 || check.AreasWkt == "" {
		t.Errorf("check %v", check)
	}
}

// Bad input is refused before anything is read, naming each field at
// fault as the request's messages name it.
func TestBadInputNamesTheField(t *testing.T) {
	c := serve(t)
	ctx := c.as(t, admin)
	many := make([]*eventsv1.AreaRef, api.MaxAreas+1)
	for i := range many {
		many[i] = &eventsv1.AreaRef{Kind: "commune", Code: "31555"}
	}
	estimates := map[string]struct {
		req    *extractorv1.EstimateExtractionRequest
		fields []string
	}{
		"no perimeter": {&extractorv1.EstimateExtractionRequest{}, []string{"perimeter"}},
		"not WKT":      {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: "POLYGON((555000 6260000, 595000"}}, []string{"perimeter.wkt"}},
		"not WKT at all": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: "Toulouse et environs"}},
			[]string{"perimeter.wkt"}},
		"self-intersecting": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: "POLYGON((555000 6260000,595000 6300000,595000 6260000,555000 6300000,555000 6260000))"}},
			[]string{"perimeter.wkt"}},
		"unknown area kind": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Areas: []*eventsv1.AreaRef{{Kind: "commune", Code: "31555"}, {Kind: "region", Code: "76"}}}},
			[]string{"perimeter.areas[1].kind"}},
		"bad area code": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Areas: []*eventsv1.AreaRef{{Kind: "commune", Code: "31 555"}}}},
			[]string{"perimeter.areas[0].code"}},
		"unknown commune": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Areas: []*eventsv1.AreaRef{{Kind: "commune", Code: "31555"}, {Kind: "commune", Code: "99999"}}}},
			[]string{"perimeter.areas[1].code"}},
		"too many areas": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Areas: many}}, []string{"perimeter.areas"}},
		"scope and period": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: box},
			Scope:  &eventsv1.TaxonomicScope{Poles: []string{"oiseaux", "x'); DROP"}, CdRefs: []int64{4001, -3}},
			Period: &eventsv1.Period{From: "2020-13-01", To: "2019-01-01"}},
			[]string{"scope.poles[1]", "scope.cd_refs[1]", "period.from"}},
		"reversed period": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: box}, Period: &eventsv1.Period{From: "2021-01-01", To: "2020-01-01"}},
			[]string{"period"}},
		"unknown policy": {&extractorv1.EstimateExtractionRequest{Perimeter: &eventsv1.Perimeter{Wkt: box}, Options: &eventsv1.ExtractionOptions{AttachedGeometry: 7}},
			[]string{"options.attached_geometry"}},
	}
	for name, e := range estimates {
		t.Run("EstimateExtraction "+name, func(t *testing.T) {
			_, err := c.EstimateExtraction(ctx, e.req)
			wantFields(t, err, e.fields)
		})
	}
	checks := map[string]struct {
		req    *extractorv1.CheckScopeRequest
		fields []string
	}{
		"unknown kind": {&extractorv1.CheckScopeRequest{Areas: []*eventsv1.AreaRef{{Kind: "departement", Code: "31"}, {Kind: "pays", Code: "FR"}}}, []string{"areas[1].kind"}},
		"empty code":   {&extractorv1.CheckScopeRequest{Areas: []*eventsv1.AreaRef{{Kind: "commune"}}}, []string{"areas[0].code"}},
		"bad pôle":     {&extractorv1.CheckScopeRequest{Poles: []string{"oiseaux", ""}}, []string{"poles[1]"}},
		"bad taxon":    {&extractorv1.CheckScopeRequest{CdRefs: []int64{0}}, []string{"cd_refs[0]"}},
		"too many":     {&extractorv1.CheckScopeRequest{Areas: many}, []string{"areas"}},
	}
	for name, e := range checks {
		t.Run("CheckScope "+name, func(t *testing.T) {
			_, err := c.CheckScope(c.as(t, service), e.req)
			wantFields(t, err, e.fields)
		})
	}
}

func wantFields(t *testing.T, err error, fields []string) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("%v, want InvalidArgument", err)
	}
	var got []string
	for _, v := range grpcserver.Violations(err) {
		got = append(got, v.Field)
		if v.Description == "" {
			t.Errorf("%s: no description", v.Field)
		}
	}
	for _, f := range fields {
		if !slices.Contains(got, f) {
			t.Errorf("violations %v (%v), want %s among them", got, err, f)
		}
	}
}
