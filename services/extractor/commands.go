package extractor

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/services/extractor/extraction"
	"sinp.occitanie.fr/sevenz"
)

// Commands are the extractor's operator commands.
func Commands() []*cli.Command {
	return []*cli.Command{extractCommand(), benchCommand()}
}

// extractFlags are the flags of `sinp extract`, shared with the benchmark.
type extractFlags struct {
	wkt, areas, poles, from, to, attached, out, reference, codec, passwordFile string
	srid, level, blockSize, window                                             int
	adherent, buffer, noSplit, excel, asJSON, fullVerify                       bool
}

func extractCommand() *cli.Command {
	c := &cli.Command{
		Name:    "extract",
		Summary: "run the extraction pipeline from the command line and write the archives to a folder",
		Usage: "sinp extract (--perimeter-wkt WKT [--srid 2154|4326] | --areas departement:31,commune:31555) [--adherent] [--buffer]\n" +
			"       [--attached none|most_precise] [--poles oiseaux,flore] [--from YYYY-MM-DD] [--to YYYY-MM-DD] --out DIR [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		var f extractFlags
		fs.StringVar(&f.wkt, "perimeter-wkt", "", "perimeter as WKT")
		fs.IntVar(&f.srid, "srid", 2154, "SRID of --perimeter-wkt: 2154 (Lambert-93) or 4326 (WGS84)")
		fs.StringVar(&f.areas, "areas", "", "perimeter as geographic objects, kind:code,... (kinds: commune, maille10, departement, espace_naturel)")
		fs.BoolVar(&f.adherent, "adherent", false, "the requester is an adherent: sensitive data at full precision in F2 archives")
		fs.BoolVar(&f.buffer, "buffer", false, "also select observations within their geometric precision of the perimeter")
		fs.StringVar(&f.attached, "attached", "none", "geometry of observations without their own: none or most_precise")
		fs.StringVar(&f.poles, "poles", "", "restrict to these pôles (comma-separated codes)")
		fs.StringVar(&f.from, "from", "", "observations ending on or after this date (YYYY-MM-DD)")
		fs.StringVar(&f.to, "to", "", "observations starting on or before this date (YYYY-MM-DD)")
		fs.BoolVar(&f.noSplit, "no-split", false, "do not split files by geometry type")
		fs.BoolVar(&f.excel, "excel", false, "start every CSV file with a UTF-8 byte order mark, for Excel")
		fs.StringVar(&f.out, "out", "", "folder the archives are written to (created)")
		fs.StringVar(&f.reference, "reference", "", "reference written in the archives (default EXTRACT-<date>)")
		fs.StringVar(&f.codec, "codec", "lzma2", "lzma2, deflate or copy")
		fs.IntVar(&f.level, "level", 0, "compression level 1-9 (0: the codec's default)")
		fs.IntVar(&f.blockSize, "block-size", 0, "unit of parallel compression in bytes (0: the writer's default)")
		fs.IntVar(&f.window, "window", 0, "how far back, in bytes, a block may find repeats (0: the writer's default)")
		fs.BoolVar(&f.fullVerify, "full-verify", false, "decode every archive back instead of checking its CRCs")
		fs.StringVar(&f.passwordFile, "password-file", "", "encrypt F2 archives with the password in this file (at least 10 characters)")
		fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		out := e.Output(f.asJSON)
		res, err := runExtract(ctx, e, f, func(read, est int64) { out.Progress("rows", read, est) })
		if err != nil {
			return err
		}
		return out.Result(res, func(w io.Writer) { printResult(w, res) })
	}
	return c
}

// spec turns the flags into a spec, transforming a WGS84 perimeter.
func (f extractFlags) spec(ctx context.Context, e *cli.Env) (extraction.Spec, error) {
	s := extraction.Spec{
		Reference: f.reference, F2Entitled: f.adherent, Buffer: f.buffer, SplitByGeometry: !f.noSplit, Excel: f.excel,
		From: f.from, To: f.to, Requester: "sinp extract", Purpose: "extraction en ligne de commande",
		Stamp: time.Now().UTC().Truncate(time.Second),
	}
	if s.Reference == "" {
		s.Reference = "EXTRACT-" + s.Stamp.Format("20060102-150405")
	}
	switch f.attached {
	case "none":
	case "most_precise":
		s.Attached = extraction.AttachedMostPrecise
	default:
		return s, cli.Usagef("--attached %q: want none or most_precise", f.attached)
	}
	for p := range strings.SplitSeq(f.poles, ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.Poles = append(s.Poles, p)
		}
	}
	for a := range strings.SplitSeq(f.areas, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		kind, code, ok := strings.Cut(a, ":")
		if !ok {
			return s, cli.Usagef("--areas %q: want kind:code, like departement:31", a)
		}
		s.Areas = append(s.Areas, extraction.AreaRef{Kind: kind, Code: code})
	}
	if (f.wkt == "") == (len(s.Areas) == 0) {
		return s, cli.Usagef("give the perimeter with exactly one of --perimeter-wkt and --areas")
	}
	if f.out == "" {
		return s, cli.Usagef("--out: the folder to write the archives to is required")
	}
	if f.wkt != "" {
		switch f.srid {
		case 2154:
			s.PerimeterWKT = f.wkt
		case 4326:
			db, err := e.Database(ctx)
			if err != nil {
				return s, err
			}
			defer db.Close()
			if err := db.QueryRow(ctx, `SELECT ST_AsText(ST_Transform(ST_GeomFromText($1, 4326), 2154))`, f.wkt).Scan(&s.PerimeterWKT); err != nil {
				return s, cli.Usagef("--perimeter-wkt: %v", err)
			}
		default:
			return s, cli.Usagef("--srid %d: want 2154 or 4326", f.srid)
		}
	}
	if err := s.Validate(); err != nil {
		return s, cli.Usagef("%v", err)
	}
	return s, nil
}

func runExtract(ctx context.Context, e *cli.Env, f extractFlags, progress func(read, est int64)) (*extraction.Result, error) {
	spec, err := f.spec(ctx, e)
	if err != nil {
		return nil, err
	}
	codec, err := sevenz.ParseCodec(f.codec)
	if err != nil {
		return nil, cli.Usagef("--codec: %v", err)
	}
	pack := extraction.PackOptions{Codec: codec, Level: f.level, BlockSize: f.blockSize, Window: f.window, FullVerify: f.fullVerify}
	if f.passwordFile != "" {
		password, err := sevenz.PasswordFromFile(f.passwordFile)
		if err != nil {
			return nil, cli.Usagef("--password-file: %v", err)
		}
		pack.F2Password = func(string) string { return password }
	}
	if err := os.MkdirAll(f.out, 0o750); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	db, err := e.Database(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return extraction.Extract(ctx, spec, f.out, extraction.Options{DB: db, Pack: pack, Progress: progress})
}

func printResult(w io.Writer, r *extraction.Result) {
	fmt.Fprintf(w, "perimeter  %s\n", r.Perimeter)
	fmt.Fprintf(w, "rows       %d selected, %d in F1 (%d blurred), %d in F2, %d withheld from F1, %d in no file\n",
		r.Selected, r.F1, r.F1Blurred, r.F2, r.WithheldF1, r.Withheld)
	var total int64
	for _, d := range r.Deliverables {
		total += d.Bytes
		enc := ""
		if d.Encrypted {
			enc = " (encrypted)"
		}
		fmt.Fprintf(w, "\n%s  %d rows  %d bytes%s  sha256 %s\n", d.Path, d.Rows, d.Bytes, enc, d.SHA256)
		for _, p := range d.Partitions {
			fmt.Fprintf(w, "  %-44s %9d rows %12d bytes\n", p.Name, p.Rows, p.Bytes)
		}
	}
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "\n%d archives, %d bytes, %.1fs, %.0f rows/s\n", len(r.Deliverables), total, secs, float64(r.Selected)/secs)
}
