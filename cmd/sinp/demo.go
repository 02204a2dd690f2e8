package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/seed"
	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/localpg"
	"sinp.occitanie.fr/platform/logging"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pole"
	"sinp.occitanie.fr/platform/service"
	"sinp.occitanie.fr/platform/shareddata"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
	deliveryv1 "sinp.occitanie.fr/proto/gen/go/sinp/delivery/v1"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
	"sinp.occitanie.fr/sevenz"
)

// demoConfig is what the demo reads from the environment.
type demoConfig struct {
	DataDir  string `env:"SINP_DATA_DIR" default:".data"`
	Database pg.Config
}

// demoReport is what the demo shows at the end.
type demoReport struct {
	Clock     string          `json:"clock"`
	Territory string          `json:"territory"`
	Requests  []demoRequest   `json:"requests"`
	Took      float64         `json:"took_seconds"`
	Zones     []demoZoneFiles `json:"drop_zones"`
}

type demoRequest struct {
	Reference  string    `json:"reference"`
	Requester  string    `json:"requester"`
	Membership string    `json:"membership"`
	State      string    `json:"state"`
	Extracted  time.Time `json:"extraction_completed_at"`
	Opinions   []string  `json:"opinions"`
}

type demoZoneFiles struct {
	Zone  string     `json:"drop_zone"`
	Files []demoFile `json:"files"`
}

type demoFile struct {
	Path         string    `json:"path"`
	Nature       string    `json:"nature"`
	Deliverable  string    `json:"deliverable_id"`
	Bytes        int64     `json:"bytes"`
	Rows         int64     `json:"rows"`
	SHA256       string    `json:"sha256"`
	Rule         string    `json:"rule"`
	ReleasedAt   time.Time `json:"released_at"`
	PublishedAt  time.Time `json:"published_at"`
	PasswordOpen bool      `json:"opens_with_its_password,omitempty"`
}

func demoCommand() *cli.Command {
	c := &cli.Command{
		Name:    "demo",
		Summary: "the whole life of two requests, from submission to the drop zones, on a clock that runs 21 days in a minute",
		Usage:   "sinp demo [--observations N] [--clock accelerated:40000|manual] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		n := fs.Int("observations", 100000, "size of the observation store the demo seeds")
		clk := fs.String("clock", "accelerated:40000", "accelerated:<factor> (21 days in 21*86400/factor s), or manual (the demo moves it)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return err
		}
		out := e.Output(*asJSON)
		say := func(format string, a ...any) {
			if !out.JSON {
				out.Done()
				fmt.Fprintf(e.Stdout, format+"\n", a...)
			}
		}
		report, err := runDemo(ctx, e, *n, *clk, say, out.Progress)
		if err != nil {
			return err
		}
		return out.Result(report, func(w io.Writer) { printDemo(w, report) })
	}
	return c
}

// demo is a running demonstration: the platform in this process and its
// clients.
type demo struct {
	ctx      context.Context
	say      func(string, ...any)
	signer   *auth.Signer
	conn     *grpc.ClientConn
	intake   intakev1.IntakeServiceClient
	accounts intakev1.AccountServiceClient
	members  intakev1.MembershipServiceClient
	review   reviewv1.ReviewServiceClient
	delivery deliveryv1.DeliveryServiceClient
	clock    adminv1.ClockServiceClient
	manual   bool
	dir      string
	operator string
	admin    string
}

func (d *demo) as(token string) context.Context { return auth.WithToken(d.ctx, token) }

func runDemo(ctx context.Context, e *cli.Env, observationsN int, clockSpec string, say func(string, ...any), progress func(string, int64, int64)) (*demoReport, error) {
	start := time.Now()
	var cfg demoConfig
	if err := config.Load(&cfg, e.Lookup); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "demo"))
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	dbURL, err := demoDatabase(ctx, e, cfg, dir)
	if err != nil {
		return nil, err
	}
	report := &demoReport{Clock: clockSpec}

	// The observation store, on the real territory when it is here.
	pool, err := pg.Connect(ctx, dbURL, 4)
	if err != nil {
		return nil, err
	}
	if _, err := observations.Init(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	opts := seed.Options{Observations: observationsN, Seed: 1, Progress: progress}
	report.Territory = "generated territory"
	if geo, err := sharedPath("geo"); err == nil {
		opts.AreasDir, report.Territory = geo, "the 4,485 real communes of Occitanie"
	}
	if ref, err := sharedPath("sensitivity", "especesensible.sql"); err == nil {
		opts.Referential = ref
	}
	say("seeding %d observations over %s ...", observationsN, report.Territory)
	if _, err := seed.Run(ctx, pool, opts); err != nil {
		pool.Close()
		return nil, err
	}
	pool.Close()

	// Every service in this process, on an embedded NATS of its own.
	env := map[string]string{"SINP_DATA_DIR": dir, "SINP_DATABASE_URL": dbURL, "SINP_NATS_URL": "", "SINP_NATS_EMBEDDED_PORT": "-1",
		"SINP_GRPC_ADDR": "127.0.0.1:0", "SINP_HTTP_ADDR": "127.0.0.1:0", "SINP_CLOCK": clockSpec, "SINP_AUTH_KEY_FILE": "",
		"SINP_STAGING_DIR": "", "SINP_DROPZONE_DIR": "", "SINP_F2_SECRET_FILE": "", "SINP_EXTRACT_WINDOW": "always"}
	if strings.HasPrefix(clockSpec, "manual") {
		env["SINP_CLOCK"] = "manual:2026-12-01T08:00:00Z"
	}
	lookup := func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			return v, true
		}
		return e.Lookup(name)
	}
	logFile, err := os.Create(filepath.Join(dir, "sinp.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	log := logging.New(logging.Config{Level: "info", Format: "text"}, logFile)
	upCtx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan service.Addrs, 1)
	var signer *auth.Signer
	done := make(chan error, 1)
	go func() {
		done <- service.Up(upCtx, lookup, definitions(), log, service.Options{Ready: func(p *service.Process, a service.Addrs) {
			signer = p.Signer
			ready <- a
		}})
	}()
	var addrs service.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		return nil, fmt.Errorf("demo: the platform did not start: %v (see %s)", err, logFile.Name())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	say("every service runs in this process (gRPC %s, HTTP %s, clock %s); logs in %s", addrs.GRPC, addrs.HTTP, clockSpec, logFile.Name())
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	d := &demo{ctx: ctx, say: say, signer: signer, conn: conn, manual: strings.HasPrefix(clockSpec, "manual"), dir: dir,
		intake: intakev1.NewIntakeServiceClient(conn), accounts: intakev1.NewAccountServiceClient(conn),
		members: intakev1.NewMembershipServiceClient(conn), review: reviewv1.NewReviewServiceClient(conn),
		delivery: deliveryv1.NewDeliveryServiceClient(conn), clock: adminv1.NewClockServiceClient(conn)}
	if d.operator, _, err = signer.Issue(auth.Principal{Kind: auth.Operator, Subject: "local:demo", Name: "demo"}, time.Now(), time.Hour); err != nil {
		return nil, err
	}
	if err := d.story(report); err != nil {
		return nil, fmt.Errorf("demo: %w (see %s)", err, logFile.Name())
	}
	stop()
	<-done
	report.Took = time.Since(start).Seconds()
	return report, nil
}

func sharedPath(elem ...string) (string, error) {
	dir, err := shareddata.Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{dir}, elem...)...)
	_, err = os.Stat(p)
	return p, err
}

// demoDatabase is SINP_DATABASE_URL when set, else a database sinp_demo
// made anew on the local server.
func demoDatabase(ctx context.Context, e *cli.Env, cfg demoConfig, dir string) (string, error) {
	if cfg.Database.URL != "" {
		return cfg.Database.URL, nil
	}
	s, err := localpg.Ensure(ctx, localpg.Options{DataDir: cfg.DataDir, Database: "sinp_demo_admin", Log: e.Log})
	if err != nil {
		return "", err
	}
	admin, err := pgx.Connect(ctx, s.AdminURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	for _, sql := range []string{`DROP DATABASE IF EXISTS sinp_demo WITH (FORCE)`, `CREATE DATABASE sinp_demo`} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("demo database: %w", err)
		}
	}
	return pg.WithDatabase(s.AdminURL, "sinp_demo"), nil
}

// password is the demo accounts' password (never used anywhere else).
const demoPassword = "demonstration only, 2026"

func (d *demo) account(email, name string, kind intakev1.AccountKind, pole, structure string) (string, error) {
	if _, err := d.accounts.CreateAccount(d.as(d.operator), &intakev1.CreateAccountRequest{Email: email, Name: name, Kind: kind, Pole: pole,
		StructureId: structure, Password: demoPassword}); err != nil {
		return "", fmt.Errorf("account %s: %w", email, err)
	}
	resp, err := d.accounts.SignIn(d.ctx, &intakev1.SignInRequest{Email: email, Password: demoPassword})
	if err != nil {
		return "", fmt.Errorf("sign in %s: %w", email, err)
	}
	return resp.AccessToken, nil
}

func (d *demo) now() time.Time {
	resp, err := d.clock.Now(d.as(d.operator), &adminv1.NowRequest{})
	if err != nil {
		return time.Time{}
	}
	return resp.Now.AsTime()
}

// advanceTo moves a manual clock to t, or waits until an accelerated one
// gets there.
func (d *demo) advanceTo(t time.Time) error {
	if !d.manual {
		for d.now().Before(t) {
			select {
			case <-d.ctx.Done():
				return d.ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		return nil
	}
	by := t.Sub(d.now())
	if by <= 0 {
		return nil
	}
	_, err := d.clock.Advance(d.as(d.operator), &adminv1.AdvanceRequest{By: durationpb.New(by)})
	return err
}

// zoneOf is a request and the token that opens its requester's drop zone.
type zoneOf struct{ token, ref string }

// published waits until everything the rule settles by t of each request
// is settled and in its drop zone (an archive, or the notice of a
// withheld F2), so that a manual clock is moved on only once the
// publications of its instant are done.
func (d *demo) published(zones []zoneOf, t time.Time) error {
	deadline := time.Now().Add(5 * time.Minute)
	for _, z := range zones {
		for {
			plan, err := d.review.GetReleasePlan(d.as(d.admin), &reviewv1.GetReleasePlanRequest{Reference: z.ref})
			if err != nil {
				return err
			}
			files, err := d.delivery.ListDropZone(d.as(z.token), &deliveryv1.ListDropZoneRequest{Reference: z.ref})
			if err != nil {
				return err
			}
			in := map[string]bool{}
			for _, f := range files.Files {
				in[f.DeliverableId] = true
			}
			missing := 0
			for _, r := range plan.Releases {
				settled := r.State == reviewv1.ReviewState_REVIEW_STATE_RELEASED || r.State == reviewv1.ReviewState_REVIEW_STATE_WITHHELD
				if (settled || !r.DueAt.AsTime().After(t)) && !in[r.DeliverableId] {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: %d settled deliverables not in the drop zone after 5 minutes", z.ref, missing)
			}
			select {
			case <-d.ctx.Done():
				return d.ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// waitRequest waits until a request reaches one of the states.
func (d *demo) waitRequest(ref string, within time.Duration, states ...intakev1.RequestState) (*intakev1.Request, error) {
	deadline := time.Now().Add(within)
	for {
		resp, err := d.intake.GetRequest(d.as(d.admin), &intakev1.GetRequestRequest{Reference: ref})
		if err == nil && slices.Contains(states, resp.Request.State) {
			return resp.Request, nil
		}
		if err == nil && resp.Request.State == intakev1.RequestState_REQUEST_STATE_FAILED {
			return nil, fmt.Errorf("%s failed: %s", ref, resp.Request.Failure)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is not %v after %s", ref, states, within)
		}
		select {
		case <-d.ctx.Done():
			return nil, d.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// story is the demonstration itself.
func (d *demo) story(report *demoReport) error {
	// The DREAL, the registry, a structure promoted by the pôles' advice.
	var err error
	if d.admin, err = d.account("dreal@occitanie.gouv.fr", "DREAL Occitanie", intakev1.AccountKind_ACCOUNT_KIND_ADMINISTRATOR, "", ""); err != nil {
		return err
	}
	reviewers := map[string]string{}
	for _, pole := range pole.Codes {
		if reviewers[pole], err = d.account("referent."+pole+"@sinp-occitanie.fr", "Référent "+pole, intakev1.AccountKind_ACCOUNT_KIND_REVIEWER, pole, ""); err != nil {
			return err
		}
	}
	structure, err := d.registry(reviewers)
	if err != nil {
		return err
	}
	requester, err := d.account("anne.faure@garonne-etudes.fr", "Anne Faure", intakev1.AccountKind_ACCOUNT_KIND_REQUESTER, "", structure)
	if err != nil {
		return err
	}

	// Two requests: an adherent's over the Toulouse area, and one filed
	// without an account by a non-adherent association.
	perimeter := &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Wkt{
		Wkt: "POLYGON((1.25 43.50,1.60 43.50,1.60 43.72,1.25 43.72,1.25 43.50))"}, Srid: 4326}
	adh, err := d.intake.SubmitRequest(d.as(requester), &intakev1.SubmitRequestRequest{
		Purpose: "Étude d'impact d'un projet de parc photovoltaïque au sud de Toulouse", Perimeter: perimeter,
		Options: &eventsv1.ExtractionOptions{SplitByGeometryType: true}, CharterAccepted: true, IdempotencyKey: "demo-1"})
	if err != nil {
		return fmt.Errorf("the adherent's request: %w", err)
	}
	anon, err := d.intake.SubmitRequest(d.ctx, &intakev1.SubmitRequestRequest{
		Declared: &intakev1.DeclaredRequester{Name: "Paul Durand", Email: "paul.durand@nature-en-garonne.org", StructureName: "Nature en Garonne"},
		Purpose:  "Inventaire participatif des oiseaux des berges de la Garonne", CharterAccepted: true,
		Perimeter: &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Areas{Areas: &intakev1.AreaList{Areas: []*eventsv1.AreaRef{
			{Kind: "commune", Code: "31555"}}}}}, IdempotencyKey: auth.RandomID()})
	if err != nil {
		return fmt.Errorf("the account-less request: %w", err)
	}
	refs := []string{adh.Request.Reference, anon.Request.Reference}
	d.say("filed %s (Anne Faure, adherent) and %s (Paul Durand, without an account: tracking token given)", refs[0], refs[1])
	for _, ref := range refs {
		if _, err := d.intake.InstructRequest(d.as(d.admin), &intakev1.InstructRequestRequest{Reference: ref, Accept: true,
			Remarks: "demande complète, finalité conforme à la charte"}); err != nil {
			return fmt.Errorf("instructing %s: %w", ref, err)
		}
	}
	d.say("the DREAL instructed both; the extractor extracts them ...")
	completedAt := map[string]time.Time{}
	var plan *reviewv1.GetReleasePlanResponse
	for _, ref := range refs {
		if _, err := d.waitRequest(ref, 5*time.Minute, intakev1.RequestState_REQUEST_STATE_EXTRACTED, intakev1.RequestState_REQUEST_STATE_COMPLETED); err != nil {
			return err
		}
		// The review opens once the extraction is announced.
		for {
			p, err := d.review.GetReleasePlan(d.as(d.admin), &reviewv1.GetReleasePlanRequest{Reference: ref})
			if err == nil {
				completedAt[ref] = p.ExtractionCompletedAt.AsTime()
				if plan == nil {
					plan = p
				}
				break
			}
			if status.Code(err) != codes.NotFound {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	e := plan.ExtractionCompletedAt.AsTime()
	var poles []string
	for _, r := range plan.Releases {
		if r.Kind == eventsv1.FileKind_FILE_KIND_F2 {
			poles = append(poles, r.Pole)
		}
	}
	if len(poles) < 2 {
		return fmt.Errorf("%s has sensitive rows in %v only: the demo needs two pôles", refs[0], poles)
	}
	d.say("extracted at %s: F1, and an F2 for each of %s under review", e.UTC().Format(time.RFC3339), strings.Join(poles, ", "))

	// The pôles: one favorable two days in, one unfavorable, the others silent.
	if err := d.advanceTo(e.Add(2 * 24 * time.Hour)); err != nil {
		return err
	}
	opinions := map[string][]string{}
	if _, err := d.review.RecordOpinion(d.as(reviewers[poles[0]]), &reviewv1.RecordOpinionRequest{Reference: refs[0],
		Opinion: eventsv1.Opinion_OPINION_FAVORABLE}); err != nil {
		return fmt.Errorf("favorable opinion: %w", err)
	}
	if _, err := d.review.RecordOpinion(d.as(reviewers[poles[1]]), &reviewv1.RecordOpinionRequest{Reference: refs[0],
		Opinion: eventsv1.Opinion_OPINION_UNFAVORABLE, Justification: "Présence d'une station d'espèce en danger critique : localisation non diffusable"}); err != nil {
		return fmt.Errorf("unfavorable opinion: %w", err)
	}
	opinions[refs[0]] = []string{poles[0] + ": favorable", poles[1] + ": unfavorable"}
	for _, p := range poles[2:] {
		opinions[refs[0]] = append(opinions[refs[0]], p+": silent")
	}
	d.say("opinions: %s favorable, %s unfavorable, %s silent; the clock runs on past 21 days ...", poles[0], poles[1], strings.Join(poles[2:], ", "))
	zones := []zoneOf{{requester, refs[0]}, {anon.TrackingToken, refs[1]}}
	for _, step := range []time.Duration{6, 8, 21} {
		at := e.Add(step * 24 * time.Hour)
		if err := d.advanceTo(at); err != nil {
			return err
		}
		if err := d.published(zones, at); err != nil {
			return err
		}
	}
	for _, ref := range refs {
		r, err := d.waitRequest(ref, 5*time.Minute, intakev1.RequestState_REQUEST_STATE_COMPLETED)
		if err != nil {
			return err
		}
		report.Requests = append(report.Requests, demoRequest{Reference: ref, Requester: r.Requester.GetName() + " (" + r.Requester.GetStructureName() + ")",
			Membership: strings.ToLower(strings.TrimPrefix(r.Requester.GetMembership().String(), "MEMBERSHIP_")), State: "completed",
			Extracted: completedAt[ref], Opinions: opinions[ref]})
	}
	for _, zone := range zones {
		files, err := d.delivery.ListDropZone(d.as(zone.token), &deliveryv1.ListDropZoneRequest{})
		if err != nil {
			return err
		}
		z := demoZoneFiles{Zone: files.DropZone}
		for _, f := range files.Files {
			df := demoFile{Path: f.FileName, Nature: strings.ToLower(strings.TrimPrefix(f.Nature.String(), "FILE_NATURE_")),
				Deliverable: f.DeliverableId, Bytes: f.Bytes, Rows: f.Rows, SHA256: f.Sha256,
				Rule: strings.ToLower(strings.TrimPrefix(f.Rule.String(), "RELEASE_RULE_")), ReleasedAt: f.ReleasedAt.AsTime(), PublishedAt: f.PublishedAt.AsTime()}
			if f.Encrypted {
				df.PasswordOpen = d.opens(zone.token, f, files.DropZone)
			}
			z.Files = append(z.Files, df)
		}
		report.Zones = append(report.Zones, z)
	}
	return nil
}

// opens checks that an F2 archive opens with the password its requester
// is shown (the password itself is not printed).
func (d *demo) opens(token string, f *deliveryv1.DropZoneFile, zone string) bool {
	pw, err := d.delivery.GetPassword(d.as(token), &deliveryv1.GetPasswordRequest{DeliverableId: f.DeliverableId})
	if err != nil {
		return false
	}
	return sevenz.Check(filepath.Join(d.dir, "dropzones", zone, f.FileName), pw.Password) == nil
}

// registry loads the 2020 registry when it is here (else makes two
// structures) and promotes one structure with a pôle's approval.
func (d *demo) registry(reviewers map[string]string) (string, error) {
	var id string
	if csv, err := sharedPath("registry", "pre-adherents-2020.csv"); err == nil {
		b, err := os.ReadFile(csv)
		if err != nil {
			return "", err
		}
		resp, err := d.members.ImportRegistry(d.as(d.operator), &intakev1.ImportRegistryRequest{Csv: b})
		if err != nil {
			return "", fmt.Errorf("registry import: %w", err)
		}
		if len(resp.ProposedForPromotion) == 0 {
			return "", errors.New("the registry proposes no structure for promotion")
		}
		id = resp.ProposedForPromotion[0]
		d.say("the registry of June 2020: %d pre-adherent structures, %d proposed for promotion", resp.Created, len(resp.ProposedForPromotion))
	} else {
		resp, err := d.members.CreateStructure(d.as(d.admin), &intakev1.CreateStructureRequest{Structure: &intakev1.Structure{
			Name: "Bureau d'études Garonne", Type: "bureau d'études", Contact: &intakev1.Contact{Name: "Anne Faure", Email: "anne.faure@garonne-etudes.fr"}}})
		if err != nil {
			return "", err
		}
		id = resp.Structure.Id
	}
	if _, err := d.members.OpenPromotion(d.as(d.admin), &intakev1.OpenPromotionRequest{StructureId: id, Remarks: "proposée au comité technique"}); err != nil {
		return "", fmt.Errorf("promotion: %w", err)
	}
	for _, pole := range pole.Codes {
		if _, err := d.members.RecordPromotionOpinion(d.as(reviewers[pole]), &intakev1.RecordPromotionOpinionRequest{StructureId: id,
			Approves: true, Argument: "structure connue du pôle, données de qualité"}); err != nil {
			return "", fmt.Errorf("promotion: the position of %s: %w", pole, err)
		}
	}
	resp, err := d.members.DecidePromotion(d.as(d.admin), &intakev1.DecidePromotionRequest{StructureId: id, Promote: true,
		Remarks: "approuvée par chacun des pôles"})
	if err != nil {
		return "", fmt.Errorf("promotion: %w", err)
	}
	d.say("%s promoted to adherent, with the approval of each pôle", resp.Structure.Name)
	return id, nil
}

func printDemo(w io.Writer, r *demoReport) {
	fmt.Fprintf(w, "\nDemo complete in %.0f s (clock %s, %s).\n", r.Took, r.Clock, r.Territory)
	for _, q := range r.Requests {
		fmt.Fprintf(w, "\n%s  %s, %s: %s", q.Reference, q.Requester, q.Membership, q.State)
		if len(q.Opinions) > 0 {
			fmt.Fprintf(w, " (opinions: %s)", strings.Join(q.Opinions, "; "))
		}
		fmt.Fprintln(w)
	}
	for _, z := range r.Zones {
		fmt.Fprintf(w, "\ndrop zone %s:\n", z.Zone)
		for _, f := range z.Files {
			extra := ""
			if f.PasswordOpen {
				extra = ", opens with its password"
			}
			fmt.Fprintf(w, "  %-44s %-7s %9d bytes %7d rows  released %s by rule %-11s published %s%s\n      sha256 %s\n",
				f.Path, f.Nature, f.Bytes, f.Rows, f.ReleasedAt.UTC().Format(time.RFC3339), f.Rule, f.PublishedAt.UTC().Format(time.RFC3339), extra, f.SHA256)
		}
	}
}
