package membership

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/cli"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/app"
	"sinp.occitanie.fr/services/intake/membership/registry"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// Commands are the registry's commands, `sinp member ...`, clients of a
// running intake's MembershipService with the caller's token (SINP_TOKEN
// or `sinp login`); the import may also run as the local operator, to
// bootstrap a deployment.
func Commands() []*cli.Command {
	return []*cli.Command{{Name: "member", Summary: "the membership registry: structures, promotions, adherents (import, structure, show, promotion, withdraw, list)",
		Sub: []*cli.Command{
			importCommand(),
			{Name: "structure", Summary: "add, edit or list the registry's structures", Sub: []*cli.Command{addCommand(), updateCommand(), structuresCommand()}},
			showCommand(),
			{Name: "promotion", Summary: "promote a pre-adherent: open, each pôle's opinion, decide", Sub: []*cli.Command{openCommand(), opinionCommand(), decideCommand()}},
			withdrawCommand(),
			adherentsCommand(),
		}}}
}

// common are the flags of every command.
type common struct {
	addr   *string
	asJSON *bool
}

func commonFlags(fs *flag.FlagSet) common {
	return common{
		addr:   fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)"),
		asJSON: fs.Bool("json", false, "print the result as JSON"),
	}
}

// client dials intake; asOperator signs as the local operator when no
// token is set.
func client(ctx context.Context, e *cli.Env, addr string, asOperator bool) (intakev1.MembershipServiceClient, context.Context, func(), error) {
	as := cli.AsUser
	if asOperator {
		as = cli.AsOperator
	}
	return cli.Connect(ctx, e, addr, as, intakev1.NewMembershipServiceClient)
}

func importCommand() *cli.Command {
	c := &cli.Command{Name: "import", Summary: "load the registry's CSV (id_adher;structure;date_demande;proposition;remarque): all rows or none",
		Usage: "sinp member import FILE.csv [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		path, err := cli.One(pos, "member import needs the registry's CSV file")
		if err != nil {
			return err
		}
		data, err := readBounded(path)
		if err != nil {
			return err
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, true)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.ImportRegistry(cctx, &intakev1.ImportRegistryRequest{Csv: data})
		if err != nil {
			return fmt.Errorf("member import %s: %w", path, err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) {
			fmt.Fprintf(w, "%s: %d structures created, %d updated; %d proposed for promotion\n", path, resp.Created, resp.Updated, len(resp.ProposedForPromotion))
			for _, id := range resp.ProposedForPromotion {
				fmt.Fprintf(w, "  %s   (sinp member promotion open %s)\n", id, id)
			}
		})
	}
	return c
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, registry.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > registry.MaxBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: this is not the registry's CSV", path, registry.MaxBytes>>20)
	}
	return data, nil
}

// structureFlags are the fields of a structure a person types.
type structureFlags struct {
	name, typ, poles, departements, scope, contactName, contactEmail, contactPhone, registryID, remarks, requested *string
}

func newStructureFlags(fs *flag.FlagSet) structureFlags {
	return structureFlags{
		name:         fs.String("name", "", "the structure's name"),
		typ:          fs.String("type", "", "bureau d'études, association, collectivité, établissement public, organisme de recherche..."),
		poles:        fs.String("poles", "", "taxonomic scope, pôle codes separated by commas ("+strings.Join(rule.Poles, ",")+"); none for all"),
		departements: fs.String("departements", "", "geographic scope, département codes separated by commas (e.g. 31,34); none for the region"),
		scope:        fs.String("scope-wkt", "", "geographic scope as a polygon (WKT, EPSG:2154)"),
		contactName:  fs.String("contact-name", "", "whom to write to"),
		contactEmail: fs.String("contact-email", "", "their e-mail address"),
		contactPhone: fs.String("contact-phone", "", "their telephone"),
		registryID:   fs.String("registry-id", "", "the registry's number (id_adher)"),
		remarks:      fs.String("remarks", "", "remarks"),
		requested:    fs.String("requested-at", "", "when the structure asked to join, YYYY-MM-DD (default: today)"),
	}
}

func (f structureFlags) structure() (*intakev1.Structure, error) {
	s := &intakev1.Structure{Name: *f.name, Type: *f.typ, Poles: list(*f.poles), Departements: list(*f.departements), ScopeWkt: *f.scope,
		RegistryId: *f.registryID, Remarks: *f.remarks}
	if *f.contactName != "" || *f.contactEmail != "" || *f.contactPhone != "" {
		s.Contact = &intakev1.Contact{Name: *f.contactName, Email: *f.contactEmail, Phone: *f.contactPhone}
	}
	if *f.requested != "" {
		d, err := time.Parse(time.DateOnly, *f.requested)
		if err != nil {
			return nil, cli.Usagef("--requested-at %q: want YYYY-MM-DD", *f.requested)
		}
		s.RequestedAt = timestamppb.New(d)
	}
	return s, nil
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func addCommand() *cli.Command {
	c := &cli.Command{Name: "add", Summary: "add a structure to the registry, as a pre-adherent (administrator)",
		Usage: "sinp member structure add --name N --type T [--poles a,b] [--departements 31,34] [--contact-name N --contact-email E] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		sf := newStructureFlags(fs)
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return cli.Usagef("member structure add takes no argument (%q): give --name and --type", pos[0])
		}
		if strings.TrimSpace(*sf.name) == "" || strings.TrimSpace(*sf.typ) == "" {
			return cli.Usagef("member structure add needs --name and --type")
		}
		s, err := sf.structure()
		if err != nil {
			return err
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.CreateStructure(cctx, &intakev1.CreateStructureRequest{Structure: s})
		if err != nil {
			return fmt.Errorf("member structure add: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printStructure(w, resp.Structure) })
	}
	return c
}

func updateCommand() *cli.Command {
	c := &cli.Command{Name: "update", Summary: "edit a structure (what is not given stays); --readmit takes a withdrawn one back as pre-adherent (administrator)",
		Usage: "sinp member structure update ID [--name N] [--type T] [--poles a,b] [--departements 31,34] [--contact-...] [--readmit [--remarks R]] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		sf := newStructureFlags(fs)
		readmit := fs.Bool("readmit", false, "re-admit a withdrawn structure as a pre-adherent")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		id, err := cli.One(pos, "member structure update needs the structure's id")
		if err != nil {
			return err
		}
		s, err := sf.structure()
		if err != nil {
			return err
		}
		s.Id = id
		if *readmit {
			s.Status = intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.UpdateStructure(cctx, &intakev1.UpdateStructureRequest{Structure: s})
		if err != nil {
			return fmt.Errorf("member structure update: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printStructure(w, resp.Structure) })
	}
	return c
}

func structuresCommand() *cli.Command {
	c := &cli.Command{Name: "list", Summary: "the registry's structures, by name (a requester: its own)",
		Usage: "sinp member structure list [--status pre-adherent|adherent|withdrawn] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		st := fs.String("status", "", "pre-adherent, adherent or withdrawn (default: all)")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		req := &intakev1.ListStructuresRequest{PageSize: 500}
		if *st != "" {
			s, err := rule.ParseStatus(*st)
			if err != nil {
				return cli.Usagef("--status %q: want pre-adherent, adherent or withdrawn", *st)
			}
			req.Status = app.StatusProto(s)
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		all := &intakev1.ListStructuresResponse{}
		for {
			resp, err := cl.ListStructures(cctx, req)
			if err != nil {
				return fmt.Errorf("member structure list: %w", err)
			}
			all.Structures = append(all.Structures, resp.Structures...)
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				break
			}
		}
		return e.Output(*f.asJSON).ResultProto(all, func(w io.Writer) {
			if len(all.Structures) == 0 {
				fmt.Fprintln(w, "no structures")
			}
			for _, s := range all.Structures {
				promotion := ""
				if p := s.Promotion; p != nil {
					promotion = "promotion " + cli.Enum(p.State, "PROMOTION_STATE_")
				}
				reg := s.RegistryId
				if reg != "" {
					reg = "#" + reg
				}
				fmt.Fprintf(w, "%-14s %-12s %-5s %s  %s\n", s.Id, statusName(s.Status), reg, s.Name, promotion)
			}
		})
	}
	return c
}

func showCommand() *cli.Command {
	c := &cli.Command{Name: "show", Summary: "one structure: its scope, contact, status history and promotion with every pôle's position",
		Usage: "sinp member show ID [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		id, err := cli.One(pos, "member show needs the structure's id")
		if err != nil {
			return err
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.GetStructure(cctx, &intakev1.GetStructureRequest{Id: id})
		if err != nil {
			return fmt.Errorf("member show: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printStructure(w, resp.Structure) })
	}
	return c
}

func openCommand() *cli.Command {
	c := &cli.Command{Name: "open", Summary: "open the promotion of a pre-adherent: the pôles give their positions (administrator)",
		Usage: "sinp member promotion open ID [--remarks R] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		remarks := fs.String("remarks", "", "why, for the pôles")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		id, err := cli.One(pos, "member promotion open needs the structure's id")
		if err != nil {
			return err
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.OpenPromotion(cctx, &intakev1.OpenPromotionRequest{StructureId: id, Remarks: *remarks})
		if err != nil {
			return fmt.Errorf("member promotion open: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printPromotion(w, resp.Promotion) })
	}
	return c
}

func opinionCommand() *cli.Command {
	c := &cli.Command{Name: "opinion", Summary: "give or revise your pôle's position on a promotion (reviewer)",
		Usage: "sinp member promotion opinion ID --approve | --object --argument TEXT [--pole P] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		approve := fs.Bool("approve", false, "your pôle approves the promotion")
		object := fs.Bool("object", false, "your pôle objects (needs --argument)")
		argument := fs.String("argument", "", "why (required with --object; the administrator and the structure read it)")
		pole := fs.String("pole", "", "the pôle (default: your own; another is refused)")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		id, err := cli.One(pos, "member promotion opinion needs the structure's id")
		if err != nil {
			return err
		}
		switch {
		case *approve == *object:
			return cli.Usagef("give --approve or --object")
		case *object && strings.TrimSpace(*argument) == "":
			return cli.Usagef("--object needs --argument: the administrator weighs it and the structure learns it")
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.RecordPromotionOpinion(cctx, &intakev1.RecordPromotionOpinionRequest{StructureId: id, Pole: *pole, Approves: *approve, Argument: *argument})
		if err != nil {
			return fmt.Errorf("member promotion opinion: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printPromotion(w, resp.Promotion) })
	}
	return c
}

func decideCommand() *cli.Command {
	c := &cli.Command{Name: "decide", Summary: "promote the pre-adherent to adherent, or refuse, seeing every pôle's position (administrator)",
		Usage: "sinp member promotion decide ID --promote|--refuse [--remarks R] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		promote := fs.Bool("promote", false, "make the structure an adherent")
		refuse := fs.Bool("refuse", false, "keep it pre-adherent (needs --remarks)")
		remarks := fs.String("remarks", "", "why (required to refuse, to promote over an objection, and, in 20 characters at least, to decide while a pôle has given no position)")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		id, err := cli.One(pos, "member promotion decide needs the structure's id")
		if err != nil {
			return err
		}
		if *promote == *refuse {
			return cli.Usagef("give --promote or --refuse")
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.DecidePromotion(cctx, &intakev1.DecidePromotionRequest{StructureId: id, Promote: *promote, Remarks: *remarks})
		if err != nil {
			return fmt.Errorf("member promotion decide: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printStructure(w, resp.Structure) })
	}
	return c
}

func withdrawCommand() *cli.Command {
	c := &cli.Command{Name: "withdraw", Summary: "end a structure's membership (administrator)",
		Usage: "sinp member withdraw ID [--remarks R] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		remarks := fs.String("remarks", "", "why")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		id, err := cli.One(pos, "member withdraw needs the structure's id")
		if err != nil {
			return err
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.WithdrawMembership(cctx, &intakev1.WithdrawMembershipRequest{StructureId: id, Remarks: *remarks})
		if err != nil {
			return fmt.Errorf("member withdraw: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) { printStructure(w, resp.Structure) })
	}
	return c
}

func adherentsCommand() *cli.Command {
	c := &cli.Command{Name: "list", Summary: "the adherents and their scopes, as the platform publishes them (no sign-in needed)",
		Usage: "sinp member list [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		f := commonFlags(fs)
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		cl, cctx, done, err := client(ctx, e, *f.addr, false)
		if err != nil {
			return err
		}
		defer done()
		resp, err := cl.ListAdherents(cctx, &intakev1.ListAdherentsRequest{})
		if err != nil {
			return fmt.Errorf("member list: %w", err)
		}
		return e.Output(*f.asJSON).ResultProto(resp, func(w io.Writer) {
			if len(resp.Adherents) == 0 {
				fmt.Fprintln(w, "no adherents")
			}
			for _, a := range resp.Adherents {
				fmt.Fprintf(w, "%-14s %s (%s), since %s; pôles: %s; départements: %s\n", a.Id, a.Name, orDash(a.Type), day(a.AdherentSince),
					scope(a.Poles, "all"), scope(a.Departements, "the region"))
			}
		})
	}
	return c
}

func printStructure(w io.Writer, s *intakev1.Structure) {
	fmt.Fprintf(w, "%s  %s  [%s]\n", s.Id, s.Name, statusName(s.Status))
	if s.RegistryId != "" {
		fmt.Fprintf(w, "  registry number  %s\n", s.RegistryId)
	}
	fmt.Fprintf(w, "  type             %s\n", orDash(s.Type))
	fmt.Fprintf(w, "  asked to join    %s\n", day(s.RequestedAt))
	fmt.Fprintf(w, "  pôles            %s\n", scope(s.Poles, "all"))
	fmt.Fprintf(w, "  départements     %s\n", scope(s.Departements, "the region"))
	if s.ScopeWkt != "" {
		fmt.Fprintf(w, "  scope geometry   %d characters of WKT (--json shows it)\n", len(s.ScopeWkt))
	}
	if c := s.Contact; c != nil {
		fmt.Fprintf(w, "  contact          %s\n", strings.Join(nonEmpty(c.Name, c.Email, c.Phone), ", "))
	}
	if s.Remarks != "" {
		fmt.Fprintf(w, "  remarks          %s\n", s.Remarks)
	}
	if len(s.History) > 0 {
		fmt.Fprintln(w, "  history")
		for _, h := range s.History {
			from := statusName(h.From)
			if h.From == intakev1.MembershipStatus_MEMBERSHIP_STATUS_UNSPECIFIED {
				from = "(entered)"
			}
			fmt.Fprintf(w, "    %s  %s -> %s  %s  %s\n", cli.When(h.At), from, statusName(h.To), h.By, h.Remarks)
		}
	}
	if s.Promotion != nil {
		printPromotion(w, s.Promotion)
	}
}

// printPromotion shows every pôle, those silent too: the administrator
// decides seeing them all.
func printPromotion(w io.Writer, p *intakev1.Promotion) {
	fmt.Fprintf(w, "  promotion %s, opened %s by %s", cli.Enum(p.State, "PROMOTION_STATE_"), cli.When(p.OpenedAt), orDash(p.OpenedBy))
	if p.DecidedAt != nil {
		fmt.Fprintf(w, ", decided %s by %s", cli.When(p.DecidedAt), orDash(p.DecidedBy))
	}
	fmt.Fprintln(w)
	if p.Remarks != "" {
		fmt.Fprintf(w, "    %s\n", p.Remarks)
	}
	for _, code := range rule.Poles {
		var pos *intakev1.PolePosition
		for _, x := range p.Positions {
			if x.Pole == code {
				pos = x
			}
		}
		switch {
		case pos == nil && slices.Contains(p.SilentPoles, code):
			fmt.Fprintf(w, "    %-20s no position when decided\n", code)
		case pos == nil:
			fmt.Fprintf(w, "    %-20s no position yet\n", code)
		case pos.Approves:
			fmt.Fprintf(w, "    %-20s approves  %s %s %s\n", code, cli.When(pos.At), pos.Reviewer, pos.Argument)
		default:
			fmt.Fprintf(w, "    %-20s OBJECTS   %s %s: %s\n", code, cli.When(pos.At), pos.Reviewer, pos.Argument)
		}
	}
}

func statusName(s intakev1.MembershipStatus) string {
	return app.StatusOf(s).String()
}

func scope(codes []string, none string) string {
	if len(codes) == 0 {
		return none
	}
	return strings.Join(codes, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func day(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().UTC().Format(time.DateOnly)
}
