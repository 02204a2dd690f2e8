package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/cli"
)

type keyConfig struct {
	DataDir string `env:"SINP_DATA_DIR" default:".data"`
	KeyFile string `env:"SINP_AUTH_KEY_FILE"`
}

func tokenCommand() *cli.Command {
	issue := &cli.Command{Name: "issue", Summary: "sign a token with the deployment's key (bootstrap: operators, tests)",
		Usage: "sinp token issue --kind operator|administrator|reviewer|requester|tracking --subject ID [--name N] [--pole P] [--request R] [--structure S] [--ttl 1h] [--json]"}
	issue.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := issue.Flags(e)
		kind := fs.String("kind", "", "what the token holder is")
		subject := fs.String("subject", "", "account id (tracking: the tracking id)")
		name := fs.String("name", "", "display name")
		pole := fs.String("pole", "", "reviewer: the pôle")
		request := fs.String("request", "", "tracking: the one request it opens")
		structure := fs.String("structure", "", "requester: the structure id")
		ttl := fs.Duration("ttl", time.Hour, "lifetime")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		k, err := auth.ParseKind(*kind)
		if err != nil {
			return cli.Usagef("--kind: %v", err)
		}
		if *subject == "" {
			return cli.Usagef("--subject is required")
		}
		if k == auth.Reviewer && *pole == "" || k == auth.Tracking && *request == "" {
			return cli.Usagef("a reviewer token needs --pole, a tracking token --request")
		}
		var cfg keyConfig
		if err := loadConfig(e, &cfg); err != nil {
			return err
		}
		path := cfg.KeyFile
		if path == "" {
			path = filepath.Join(cfg.DataDir, "auth", "signing.key")
		}
		s, err := auth.ReadKey(path)
		if err != nil {
			return fmt.Errorf("the signing key %s: %w (it is created by the first `sinp up`)", path, err)
		}
		tok, p, err := s.Issue(auth.Principal{Kind: k, Subject: *subject, Name: *name, Pole: *pole, Request: *request, Structure: *structure}, time.Now(), *ttl)
		if err != nil {
			return err
		}
		out := map[string]any{"token": tok, "kind": k.String(), "subject": p.Subject, "token_id": p.TokenID, "expires_at": p.ExpiresAt}
		return e.Output(*asJSON).Result(out, func(w io.Writer) { fmt.Fprintln(w, tok) })
	}
	return &cli.Command{Name: "token", Summary: "tokens (issue)", Sub: []*cli.Command{issue}}
}
