package request

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"sinp.occitanie.fr/platform/cli"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
)

// Commands is `sinp request submit|show|list|estimate|instruct|cancel|
// retry`, a client of a running intake with the caller's token
// (SINP_TOKEN or `sinp login`; none: filed without an account).
func Commands() []*cli.Command {
	return []*cli.Command{{Name: "request", Summary: "extraction requests (submit, show, list, estimate, instruct, cancel, retry)",
		Sub: []*cli.Command{submitCommand(), showCommand(), listCommand(), estimateCommand(), instructCommand(), cancelCommand(), retryCommand()}}}
}

func client(ctx context.Context, e *cli.Env, addr string) (intakev1.IntakeServiceClient, context.Context, func(), error) {
	return cli.Connect(ctx, e, addr, cli.AsUser, intakev1.NewIntakeServiceClient)
}

func printRequest(w io.Writer, r *intakev1.Request, full bool) {
	entitled := "F1"
	if r.F2Entitled {
		entitled = "F1+F2"
	}
	fmt.Fprintf(w, "%-16s %-10s %-6s %s  %s (%s)\n", r.Reference, cli.Enum(r.State, "REQUEST_STATE_"), entitled, cli.When(r.SubmittedAt),
		r.Requester.GetStructureName(), cli.Enum(r.Requester.GetMembership(), "MEMBERSHIP_"))
	if !full {
		return
	}
	fmt.Fprintf(w, "  purpose: %s\n", r.Purpose)
	if r.RejectionReason != "" {
		fmt.Fprintf(w, "  rejected: %s\n", r.RejectionReason)
	}
	for _, d := range r.Deliverables {
		fmt.Fprintf(w, "  %-28s %-12s %6d rows %s %s\n", d.DeliverableId, cli.Enum(d.State, "DELIVERABLE_STATE_"), d.Rows, cli.When(d.ReleasedAt), d.Justification)
	}
	for _, h := range r.History {
		fmt.Fprintf(w, "  %s %-20s %s %s\n", cli.When(h.At), h.What, h.Who, h.Detail)
	}
}

// areaList reads "commune:34172,departement:31".
func areaList(s string) ([]*eventsv1.AreaRef, error) {
	var out []*eventsv1.AreaRef
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		kind, code, ok := strings.Cut(part, ":")
		if !ok {
			return nil, cli.Usagef("--areas %q: want kind:code, like commune:34172 or departement:31", part)
		}
		out = append(out, &eventsv1.AreaRef{Kind: kind, Code: code})
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func submitCommand() *cli.Command {
	c := &cli.Command{Name: "submit", Summary: "file a request (signed in: as your account; else as a declared non-adherent)",
		Usage: "sinp request submit (--perimeter-wkt WKT [--srid 4326] | --perimeter-file F.geojson|F.wkt | --areas commune:34172,departement:31) --purpose TEXT --accept-charter [--poles a,b] [--cd-refs 1,2] [--from D --to D] [--buffer] [--attached most_precise] [--split] [--name N --email E --structure S] [--key K] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		wkt := fs.String("perimeter-wkt", "", "the perimeter as WKT")
		file := fs.String("perimeter-file", "", "a file holding the perimeter: GeoJSON (.geojson, .json) or WKT")
		srid := fs.Int("srid", 2154, "the WKT's CRS: 2154 (Lambert-93) or 4326 (longitude/latitude)")
		areas := fs.String("areas", "", "the perimeter as geographic objects: commune:CODE, departement:CODE, maille10:CODE, espace_naturel:CODE")
		purpose := fs.String("purpose", "", "the study the data is for")
		charter := fs.Bool("accept-charter", false, "accept the charter of use of SINP data")
		poles := fs.String("poles", "", "only these pôles (default: all)")
		cdRefs := fs.String("cd-refs", "", "only these taxa (TAXREF cd_ref)")
		from := fs.String("from", "", "observed from (YYYY-MM-DD)")
		to := fs.String("to", "", "observed until (YYYY-MM-DD)")
		buffer := fs.Bool("buffer", false, "also observations within their precision of the perimeter")
		attached := fs.String("attached", "none", "geometry of observations attached to an object: none or most_precise")
		split := fs.Bool("split", false, "one file per geometry type")
		excel := fs.Bool("excel", false, "CSV files for Excel (UTF-8 with a byte order mark)")
		name := fs.String("name", "", "without an account: your name")
		email := fs.String("email", "", "without an account: your email")
		structure := fs.String("structure", "", "without an account: your structure")
		key := fs.String("key", "", "idempotency key: the same key again returns the first result (without an account: a random key of 22 characters or more from A-Z a-z 0-9 - _, e.g. a UUID; it alone gives the tracking token back)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		req := &intakev1.SubmitRequestRequest{Purpose: *purpose, CharterAccepted: *charter, IdempotencyKey: *key,
			Scope: &eventsv1.TaxonomicScope{Poles: splitList(*poles)}, Period: &eventsv1.Period{From: *from, To: *to},
			Options: &eventsv1.ExtractionOptions{BufferByPrecision: *buffer, SplitByGeometryType: *split, Excel: *excel}}
		for _, r := range splitList(*cdRefs) {
			n, err := strconv.ParseInt(r, 10, 64)
			if err != nil {
				return cli.Usagef("--cd-refs %q: want numbers", r)
			}
			req.Scope.CdRefs = append(req.Scope.CdRefs, n)
		}
		switch *attached {
		case "none":
			req.Options.AttachedGeometry = eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE
		case "most_precise":
			req.Options.AttachedGeometry = eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE
		default:
			return cli.Usagef("--attached %q: none or most_precise", *attached)
		}
		given := 0
		for _, v := range []string{*wkt, *file, *areas} {
			if v != "" {
				given++
			}
		}
		if given != 1 {
			return cli.Usagef("give one perimeter: --perimeter-wkt, --perimeter-file or --areas")
		}
		req.Perimeter = &intakev1.PerimeterInput{Srid: int32(*srid)}
		switch {
		case *wkt != "":
			req.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: *wkt}
		case *file != "":
			b, err := os.ReadFile(*file)
			if err != nil {
				return err
			}
			if text := strings.TrimSpace(string(b)); strings.HasPrefix(text, "{") {
				req.Perimeter.Shape, req.Perimeter.Srid = &intakev1.PerimeterInput_Geojson{Geojson: text}, 4326
			} else {
				req.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: text}
			}
		default:
			list, err := areaList(*areas)
			if err != nil {
				return err
			}
			req.Perimeter.Shape = &intakev1.PerimeterInput_Areas{Areas: &intakev1.AreaList{Areas: list}}
		}
		if *name != "" || *email != "" || *structure != "" {
			req.Declared = &intakev1.DeclaredRequester{Name: *name, Email: *email, StructureName: *structure}
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.SubmitRequest(cctx, req)
		if err != nil {
			return fmt.Errorf("request submit: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) {
			printRequest(w, resp.Request, false)
			if resp.TrackingToken != "" {
				fmt.Fprintf(w, "\nYour tracking token (shown once, keep it: it opens this request, its feed and its drop zone):\n%s\n", resp.TrackingToken)
			}
		})
	}
	return c
}

func oneRef(pos []string, what string) (string, error) {
	if len(pos) != 1 {
		return "", cli.Usagef("request %s needs the request's reference", what)
	}
	return pos[0], nil
}

func showCommand() *cli.Command {
	c := &cli.Command{Name: "show", Summary: "a request: its state, deliverables and history", Usage: "sinp request show REFERENCE [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		ref, err := oneRef(pos, "show")
		if err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.GetRequest(cctx, &intakev1.GetRequestRequest{Reference: ref})
		if err != nil {
			return fmt.Errorf("request show: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp.Request, func(w io.Writer) { printRequest(w, resp.Request, true) })
	}
	return c
}

func listCommand() *cli.Command {
	c := &cli.Command{Name: "list", Summary: "your requests (all for the administrator)",
		Usage: "sinp request list [--state deposited|instructed|...] [--pole P] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		state := fs.String("state", "", "only requests in this state")
		pole := fs.String("pole", "", "only requests whose scope includes this pôle")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		req := &intakev1.ListRequestsRequest{Pole: *pole, PageSize: 200}
		if *state != "" {
			st, ok := StateOf(State(*state).Proto())
			if !ok {
				return cli.Usagef("--state %q: deposited, instructed, rejected, cancelled, extracting, extracted, completed or failed", *state)
			}
			req.State = st.Proto()
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		all := &intakev1.ListRequestsResponse{}
		for {
			resp, err := cl.ListRequests(cctx, req)
			if err != nil {
				return fmt.Errorf("request list: %w", err)
			}
			all.Requests = append(all.Requests, resp.Requests...)
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				break
			}
		}
		return e.Output(*asJSON).ResultProto(all, func(w io.Writer) {
			if len(all.Requests) == 0 {
				fmt.Fprintln(w, "no requests")
			}
			for _, r := range all.Requests {
				printRequest(w, r, false)
			}
		})
	}
	return c
}

func estimateCommand() *cli.Command {
	c := &cli.Command{Name: "estimate", Summary: "what a request would deliver, per pôle, geometry type and F1/F2 (administrator)",
		Usage: "sinp request estimate REFERENCE [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		ref, err := oneRef(pos, "estimate")
		if err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.EstimateRequest(cctx, &intakev1.EstimateRequestRequest{Reference: ref})
		if err != nil {
			return fmt.Errorf("request estimate: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) {
			fmt.Fprintf(w, "%s: %d rows selected, %d in F1, %d in F2, %d in no file (F2 entitled: %v)\n", resp.Reference,
				resp.RowsSelected, resp.RowsF1, resp.RowsF2, resp.RowsWithheld, resp.F2Entitled)
			for _, r := range resp.Rows {
				fmt.Fprintf(w, "  %s %-20s %-12s %d\n", cli.Enum(r.Kind, "FILE_KIND_"), r.Pole, cli.Enum(r.GeometryType, "GEOMETRY_TYPE_"), r.Rows)
			}
		})
	}
	return c
}

func instructCommand() *cli.Command {
	c := &cli.Command{Name: "instruct", Summary: "accept a deposited request, or reject it with a reason (administrator)",
		Usage: "sinp request instruct REFERENCE --accept [--remarks R] | --reject REASON   [--key K] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		accept := fs.Bool("accept", false, "accept the request")
		reject := fs.String("reject", "", "reject it, for this reason (communicated to the requester)")
		remarks := fs.String("remarks", "", "remarks kept in the history")
		key := fs.String("key", "", "idempotency key: the same key again returns the first result")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		ref, err := oneRef(pos, "instruct")
		if err != nil {
			return err
		}
		if *accept == (*reject != "") {
			return cli.Usagef("give --accept or --reject REASON")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.InstructRequest(cctx, &intakev1.InstructRequestRequest{Reference: ref, Accept: *accept, Reason: *reject,
			Remarks: *remarks, IdempotencyKey: *key})
		if err != nil {
			return fmt.Errorf("request instruct: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) { printRequest(w, resp.Request, false) })
	}
	return c
}

func cancelCommand() *cli.Command {
	c := &cli.Command{Name: "cancel", Summary: "withdraw a deposited request (its requester or the administrator)",
		Usage: "sinp request cancel REFERENCE [--reason R] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		reason := fs.String("reason", "", "why")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		ref, err := oneRef(pos, "cancel")
		if err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.CancelRequest(cctx, &intakev1.CancelRequestRequest{Reference: ref, Reason: *reason})
		if err != nil {
			return fmt.Errorf("request cancel: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp.Request, func(w io.Writer) { printRequest(w, resp.Request, false) })
	}
	return c
}

func retryCommand() *cli.Command {
	c := &cli.Command{Name: "retry", Summary: "instruct again a request whose extraction failed (administrator)",
		Usage: "sinp request retry REFERENCE [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		ref, err := oneRef(pos, "retry")
		if err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.RetryExtraction(cctx, &intakev1.RetryExtractionRequest{Reference: ref})
		if err != nil {
			return fmt.Errorf("request retry: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp.Request, func(w io.Writer) { printRequest(w, resp.Request, false) })
	}
	return c
}
