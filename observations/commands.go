package observations

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"sinp.occitanie.fr/observations/geonature"
	"sinp.occitanie.fr/observations/seed"
	"sinp.occitanie.fr/observations/sensitivity"
	"sinp.occitanie.fr/observations/stats"
	"sinp.occitanie.fr/platform/cli"
)

// Commands are the operator commands of the observation store: store
// init, seed, sensitivity apply and stats.
func Commands() []*cli.Command {
	return []*cli.Command{storeCommand(), seedCommand(), sensitivityCommand(), statsCommand()}
}

func storeCommand() *cli.Command {
	initc := &cli.Command{
		Name:    "init",
		Summary: "create the observation store (schema oc_dat), or bring one it created up to date; refuses a store it did not create; --source geonature installs the extractor's views over a GeoNature database instead",
		Usage:   "sinp store init [--source oc_dat|geonature] [--json]",
	}
	initc.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := initc.Flags(e)
		def := "oc_dat"
		if v, ok := e.Lookup("SINP_SOURCE"); ok && v != "" {
			def = v
		}
		src := fs.String("source", def, "what the extractor reads: oc_dat (the observation store) or geonature (views over GeoNature's gn_synthese, see observations/geonature); default $SINP_SOURCE")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return usage(err)
		}
		if *src != "oc_dat" && *src != "geonature" {
			return cli.Usagef("--source: %q is neither oc_dat nor geonature", *src)
		}
		db, err := e.Database(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		out := e.Output(*asJSON)
		if *src == "geonature" {
			res, err := geonature.Install(ctx, db, out.Progress)
			if err != nil {
				return err
			}
			return out.Result(res, func(w io.Writer) {
				if !res.Changed {
					fmt.Fprintf(w, "GeoNature adapter up to date (%s)\n", res.Digest)
					return
				}
				fmt.Fprintf(w, "GeoNature adapter installed (%s): %d observations of %d synthese rows, in %.1fs\n",
					res.Digest, res.Refresh.Observations, res.Refresh.Synthese, res.Refresh.Seconds)
			})
		}
		applied, err := Init(ctx, db)
		if err != nil {
			return err
		}
		return out.Result(applied, func(w io.Writer) {
			for _, a := range applied {
				fmt.Fprintf(w, "%-24s applied %v\n", a.Schema+"/"+a.Component, a.Versions)
			}
		})
	}
	refresh := &cli.Command{
		Name:    "refresh",
		Summary: "bring the GeoNature adapter's materialized views up to date with the synthese (CONCURRENTLY once filled)",
		Usage:   "sinp store refresh [--json]",
	}
	refresh.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := refresh.Flags(e)
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return usage(err)
		}
		if fs.NArg() > 0 {
			return cli.Usagef("store refresh: unexpected argument %q", fs.Arg(0))
		}
		db, err := e.Database(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		out := e.Output(*asJSON)
		res, err := geonature.Refresh(ctx, db, out.Progress)
		if err != nil {
			return err
		}
		return out.Result(res, func(w io.Writer) {
			for _, r := range res.Relations {
				fmt.Fprintf(w, "%-28s %10d rows  %6.1fs  concurrently: %v\n", r.Name, r.Rows, r.Seconds, r.Concurrent)
			}
			fmt.Fprintf(w, "%d of %d synthese rows; left out: %d without geometry or known attachment, %d without a pôle\n",
				res.Observations, res.Synthese, res.Unlocated, res.NoPole)
		})
	}
	return &cli.Command{Name: "store", Summary: "the observation store (init, refresh)", Sub: []*cli.Command{initc, refresh}}
}

func seedCommand() *cli.Command {
	c := &cli.Command{
		Name:    "seed",
		Summary: "fill the observation store with a realistic, reproducible data set",
		Usage:   "sinp seed [--observations N] [--seed S] [--areas DIR] [--referential FILE] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		n := fs.Int("observations", 100000, "number of observations")
		s := fs.Uint64("seed", 1, "random seed: the same seed and options give the same data")
		areas := fs.String("areas", "", "folder of departements*.geojson and communes-*.geojson (EPSG:4326), e.g. ../shared/data/geo; default: a generated territory")
		ref := fs.String("referential", "", "sensitivity referential (especesensible.sql) whose taxa and rules make the sensitive data; default: synthetic rules")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return usage(err)
		}
		if fs.NArg() > 0 {
			return cli.Usagef("seed: unexpected argument %q", fs.Arg(0))
		}
		if *n < 0 {
			return cli.Usagef("--observations: %d is negative", *n)
		}
		out := e.Output(*asJSON)
		db, err := e.Database(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		if _, err := Init(ctx, db); err != nil {
			return err
		}
		res, err := seed.Run(ctx, db, seed.Options{Observations: *n, Seed: *s, AreasDir: *areas, Referential: *ref, Progress: out.Progress})
		if err != nil {
			return err
		}
		return out.Result(res, func(w io.Writer) {
			territory := "generated territory"
			if res.RealAreas {
				territory = "real communes from " + *areas
			}
			fmt.Fprintf(w, "seeded %d observations (%d with geometry), seed %d, %s\n", res.Observations, res.Geometries, res.Seed, territory)
			fmt.Fprintf(w, "  %d communes, %d départements, %d 10 km cells, %d natural areas\n", res.Communes, res.Departements, res.Cells, res.NaturalAreas)
			fmt.Fprintf(w, "  %d taxa, %d datasets, sensitivity referential %q (%d rules)\n", res.Taxa, res.Datasets, res.Referential, res.Rules)
			fmt.Fprintf(w, "  reference data %.1fs, load %.1fs (%.0f obs/s), indexes %.1fs, analyze %.1fs\n", res.ReferenceSecs, res.LoadSecs, res.LoadPerSecond, res.IndexSecs, res.AnalyzeSecs)
			fmt.Fprintf(w, "  total %.1fs: %.0f observations/s\n", res.TotalSecs, res.RatePerSecond)
		})
	}
	return c
}

func sensitivityCommand() *cli.Command {
	apply := &cli.Command{
		Name:    "apply",
		Summary: "compute every observation's sensitivity level from a referential",
		Usage:   "sinp sensitivity apply --referential FILE [--name NAME] [--version V] [--json]",
	}
	apply.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := apply.Flags(e)
		file := fs.String("referential", "", "referential file: a dump with COPY ... (cd_dept, id, cd_nom, duree, codage, autre, cd_sl, cd_occ_statut_biologique, nom_cite) FROM stdin, or a TSV with that header")
		name := fs.String("name", "", "name recorded in sensi_referentiel (default: the file name without extension)")
		version := fs.String("version", "", "version recorded in sensi_version_referentiel (default: the dump's date, else a digest of the file)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return usage(err)
		}
		if *file == "" {
			return cli.Usagef("sensitivity apply: --referential FILE is required")
		}
		if fs.NArg() > 0 {
			return cli.Usagef("sensitivity apply: unexpected argument %q", fs.Arg(0))
		}
		rules, err := sensitivity.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("--referential: %w", err)
		}
		if *name == "" {
			*name = strings.TrimSuffix(filepath.Base(*file), filepath.Ext(*file))
		}
		if *version == "" {
			if *version, err = sensitivity.VersionOf(*file); err != nil {
				return fmt.Errorf("--referential: %w", err)
			}
		}
		out := e.Output(*asJSON)
		db, err := e.Database(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		out.Progress("sensitivity", 0, -1)
		res, err := sensitivity.Apply(ctx, db, rules, sensitivity.Options{Name: *name, Version: *version, Now: time.Now()})
		if err != nil {
			return err
		}
		return out.Result(res, func(w io.Writer) {
			fmt.Fprintf(w, "referential %q version %s: %d rules; %d observations, %d changed (attributed %s), %d set by hand left alone\n",
				res.Referential, res.Version, res.Rules, res.Observations, res.Changed, res.AttributedAt.UTC().Format(time.RFC3339), res.Manual)
			for level := 0; level <= 4; level++ {
				fmt.Fprintf(w, "  level %d: %d\n", level, res.Levels[level])
			}
		})
	}
	return &cli.Command{
		Name:    "sensitivity",
		Summary: "sensitivity of observations (apply a referential)",
		Usage:   "sinp sensitivity apply --referential FILE",
		Sub:     []*cli.Command{apply},
	}
}

func statsCommand() *cli.Command {
	c := &cli.Command{
		Name:    "stats",
		Summary: "loading state of the observation store: per pôle, dataset, geometry type, sensitivity",
		Usage:   "sinp stats [--datasets N] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		max := fs.Int("datasets", 20, "datasets listed in the table (the largest; 0 for all; JSON lists all)")
		asJSON := fs.Bool("json", false, "print the statistics as JSON")
		if err := fs.Parse(args); err != nil {
			return usage(err)
		}
		if fs.NArg() > 0 {
			return cli.Usagef("stats: unexpected argument %q", fs.Arg(0))
		}
		if *max < 0 {
			return cli.Usagef("--datasets: %d is negative", *max)
		}
		out := e.Output(*asJSON)
		db, err := e.Database(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		s, err := stats.Compute(ctx, db)
		if err != nil {
			return err
		}
		return out.Result(s, func(w io.Writer) { s.Print(w, *max) })
	}
	return c
}

// usage turns a flag parsing error into a usage error (--help stays help).
func usage(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return cli.Usagef("%v", err)
}
