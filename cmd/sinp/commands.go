package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/service"
	"sinp.occitanie.fr/services/delivery"
	"sinp.occitanie.fr/services/extractor"
	"sinp.occitanie.fr/services/feeds"
	"sinp.occitanie.fr/services/intake"
	"sinp.occitanie.fr/services/review"
)

// definitions are every service sinp can run, in start order.
func definitions() []service.Definition {
	return []service.Definition{
		intake.Definition(),
		extractor.Definition(),
		review.Definition(),
		delivery.Definition(),
		feeds.Definition(),
	}
}

func commands() []*cli.Command {
	cmds := []*cli.Command{
		upCommand(),
		migrateCommand(),
		clockCommand(),
		healthCommand(),
		natsCommand(),
		dlqCommand(),
		outboxCommand(),
		tokenCommand(),
		demoCommand(),
		dbCommand(),
		packCommand(),
		versionCommand(),
	}
	cmds = append(cmds, observations.Commands()...)
	cmds = append(cmds, extractor.Commands()...)
	cmds = append(cmds, review.Commands()...)
	cmds = append(cmds, intake.Commands()...)
	cmds = append(cmds, delivery.Commands()...)
	return cmds
}

// selectServices picks definitions by name; empty means all.
func selectServices(list string) ([]service.Definition, error) {
	all := definitions()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	var out []service.Definition
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(d service.Definition) bool { return d.Name == name })
		if i < 0 {
			return nil, cli.Usagef("--services: unknown service %q (known: %s)", name, serviceNames(all))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func serviceNames(defs []service.Definition) string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return strings.Join(names, ",")
}

func upCommand() *cli.Command {
	c := &cli.Command{
		Name:    "up",
		Summary: "run services in this process (all by default), with an embedded NATS server unless SINP_NATS_URL is set",
		Usage:   "sinp up [--services intake,extractor,review,delivery,feeds]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		list := fs.String("services", "", "comma-separated services to run (default: all)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		defs, err := selectServices(*list)
		if err != nil {
			return err
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		return service.Up(ctx, e.Lookup, defs, e.Log, service.Options{BusCommand: []string{exe, "nats"}})
	}
	return c
}

func migrateCommand() *cli.Command {
	c := &cli.Command{
		Name:    "migrate",
		Summary: "apply the pending migrations of the platform and of services (never the observation store's: sinp store init)",
		Usage:   "sinp migrate [--services intake,...] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		list := fs.String("services", "", "comma-separated services (default: all)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return err
		}
		defs, err := selectServices(*list)
		if err != nil {
			return err
		}
		db, err := e.Database(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		applied, err := pg.Migrate(ctx, db, service.Migrations(defs)...)
		if err != nil {
			return err
		}
		return e.Output(*asJSON).Result(applied, func(w io.Writer) {
			for _, a := range applied {
				done := "up to date"
				if len(a.Versions) > 0 {
					done = fmt.Sprintf("applied %v", a.Versions)
				}
				fmt.Fprintf(w, "schema %-10s %-10s %s\n", a.Schema, a.Component, done)
			}
		})
	}
	return c
}

func dbCommand() *cli.Command {
	ensure := &cli.Command{
		Name:    "ensure",
		Summary: "find or start the local PostgreSQL, create the platform database, check PostGIS; print its URL",
		Usage:   "sinp db ensure [--admin]",
	}
	ensure.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := ensure.Flags(e)
		admin := fs.Bool("admin", false, "print the URL of the server's maintenance database instead")
		if err := fs.Parse(args); err != nil {
			return err
		}
		var c cli.DatabaseConfig
		if err := loadConfig(e, &c); err != nil {
			return err
		}
		s, err := e.LocalServer(ctx, c)
		if err != nil {
			return err
		}
		if *admin {
			fmt.Fprintln(e.Stdout, s.AdminURL)
		} else {
			fmt.Fprintln(e.Stdout, s.URL)
		}
		return nil
	}
	return &cli.Command{Name: "db", Summary: "local database server (ensure)", Sub: []*cli.Command{ensure}}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:    "version",
		Summary: "print the version of this binary",
		Usage:   "sinp version",
		Run: func(ctx context.Context, e *cli.Env, args []string) error {
			fmt.Fprintln(e.Stdout, version())
			return nil
		},
	}
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "sinp (unknown build)"
	}
	rev, dirty := "unknown", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	return fmt.Sprintf("sinp %s%s (%s)", rev, dirty, bi.GoVersion)
}
