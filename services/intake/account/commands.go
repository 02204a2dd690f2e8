package account

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/cli"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
)

// Commands are `sinp login`, `sinp logout` and `sinp user
// add|list|disable|passwd`, clients of a running intake.
func Commands() []*cli.Command {
	return []*cli.Command{loginCommand(), logoutCommand(), {Name: "user", Summary: "accounts (add, list, disable, passwd)",
		Sub: []*cli.Command{userAddCommand(), userListCommand(), userDisableCommand(), userPasswdCommand()}}}
}

// password reads a secret from a file, else SINP_PASSWORD, else the
// first line of standard input: never from the command line, where ps
// would show it.
func password(e *cli.Env, file, variable string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if v, ok := e.Lookup(variable); ok && v != "" {
		return v, nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no password: give --password-file, set %s, or write it on standard input", variable)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func client(ctx context.Context, e *cli.Env, addr string, operator bool) (intakev1.AccountServiceClient, context.Context, func(), error) {
	as := cli.AsUser
	if operator {
		as = cli.AsUserOrOperator
	}
	return cli.Connect(ctx, e, addr, as, intakev1.NewAccountServiceClient)
}

// loginFiles are where `sinp login` keeps the access token (the file
// platform/cli reads for every command) and, beside it, the refresh token.
func loginFiles(e *cli.Env) (access, refresh string, err error) {
	access, err = e.TokenFile()
	return access, access + ".refresh", err
}

// saveLogin keeps both tokens of a sign-in, readable by their owner only.
func saveLogin(e *cli.Env, resp *intakev1.SignInResponse) (string, error) {
	_, refreshFile, err := loginFiles(e)
	if err != nil {
		return "", err
	}
	saved, err := e.SaveToken(resp.AccessToken)
	if err != nil {
		return "", err
	}
	return saved, cli.WritePrivate(refreshFile, []byte(resp.RefreshToken+"\n"))
}

func savedRefresh(e *cli.Env) (string, error) {
	_, refreshFile, err := loginFiles(e)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(refreshFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

// accountClient connects without any token: signing in, refreshing and
// signing out must work whatever token was saved (an expired one is
// refused, not ignored).
func accountClient(e *cli.Env, addr string) (intakev1.AccountServiceClient, func(), error) {
	conn, err := e.Dial(addr)
	if err != nil {
		return nil, nil, err
	}
	return intakev1.NewAccountServiceClient(conn), func() { conn.Close() }, nil
}

func loginCommand() *cli.Command {
	c := &cli.Command{Name: "login", Summary: "sign in and keep the tokens for the next commands",
		Usage: "sinp login --email E [--password-file F] | --refresh   [--addr HOST:PORT] [--json]   (password: file, SINP_PASSWORD or standard input)"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		email := fs.String("email", "", "your account's email")
		file := fs.String("password-file", "", "a file holding the password")
		refresh := fs.Bool("refresh", false, "renew the saved access token with the saved refresh token, without the password")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		if (*email != "") == *refresh { // one or the other
			return cli.Usagef("login needs --email, or --refresh after a login")
		}
		var resp *intakev1.SignInResponse
		if *refresh {
			tok, err := savedRefresh(e)
			if err != nil {
				return err
			}
			if tok == "" {
				return errors.New("login --refresh: no saved refresh token: sign in with --email")
			}
			cl, closeFn, err := accountClient(e, *addr)
			if err != nil {
				return err
			}
			defer closeFn()
			if resp, err = cl.Refresh(ctx, &intakev1.RefreshRequest{RefreshToken: tok}); status.Code(err) == codes.Unauthenticated {
				return fmt.Errorf("login --refresh: the saved session has ended (%s): sign in with --email", status.Convert(err).Message())
			} else if err != nil {
				return fmt.Errorf("login --refresh: %w", err)
			}
		} else {
			pw, err := password(e, *file, "SINP_PASSWORD")
			if err != nil {
				return err
			}
			cl, closeFn, err := accountClient(e, *addr)
			if err != nil {
				return err
			}
			defer closeFn()
			if resp, err = cl.SignIn(ctx, &intakev1.SignInRequest{Email: *email, Password: pw}); err != nil {
				return fmt.Errorf("login: %w", err)
			}
		}
		saved, err := saveLogin(e, resp)
		if err != nil {
			return err
		}
		out := map[string]any{"account": resp.Account.Id, "kind": strings.ToLower(strings.TrimPrefix(resp.Account.Kind.String(), "ACCOUNT_KIND_")),
			"expires_at": resp.AccessExpiresAt.AsTime(), "refresh_expires_at": resp.RefreshExpiresAt.AsTime(), "token_file": saved}
		return e.Output(*asJSON).Result(out, func(w io.Writer) {
			fmt.Fprintf(w, "signed in as %s (%s) until %s (renew with `sinp login --refresh` until %s); token kept in %s\n", resp.Account.Name, out["kind"],
				resp.AccessExpiresAt.AsTime().Local().Format(time.RFC3339), resp.RefreshExpiresAt.AsTime().Local().Format(time.RFC3339), saved)
		})
	}
	return c
}

func logoutCommand() *cli.Command {
	c := &cli.Command{Name: "logout", Summary: "sign out: end the saved login's session and delete its tokens",
		Usage: "sinp logout [--addr HOST:PORT]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		accessFile, refreshFile, err := loginFiles(e)
		if err != nil {
			return err
		}
		tok, err := savedRefresh(e)
		if err != nil {
			return err
		}
		if tok != "" {
			cl, closeFn, err := accountClient(e, *addr)
			if err != nil {
				return err
			}
			defer closeFn()
			// Unauthenticated: the session has ended already (expired,
			// signed out, password changed). Otherwise keep the tokens,
			// so that logout can be tried again.
			if _, err := cl.SignOut(ctx, &intakev1.SignOutRequest{RefreshToken: tok}); err != nil && status.Code(err) != codes.Unauthenticated {
				return fmt.Errorf("logout: %w (the tokens are kept: try again)", err)
			}
		}
		for _, f := range []string{refreshFile, accessFile} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if tok == "" {
			fmt.Fprintln(e.Stderr, "no saved session to end; the saved access token (if any) is deleted")
		} else {
			fmt.Fprintln(e.Stderr, "signed out; the saved tokens are deleted")
		}
		if v, ok := e.Lookup("SINP_TOKEN"); ok && v != "" {
			fmt.Fprintln(e.Stderr, "SINP_TOKEN is still set in the environment: commands keep sending it")
		}
		return nil
	}
	return c
}

func printAccount(w io.Writer, a *intakev1.Account) {
	extra := a.Pole + a.StructureId
	state := ""
	if a.Disabled {
		state = " (disabled)"
	}
	fmt.Fprintf(w, "%-16s %-32s %-14s %-14s %s%s\n", a.Id, a.Email, strings.ToLower(strings.TrimPrefix(a.Kind.String(), "ACCOUNT_KIND_")), extra, a.Name, state)
}

func userAddCommand() *cli.Command {
	c := &cli.Command{Name: "add", Summary: "create an account (administrator; operator for the first ones)",
		Usage: "sinp user add --email E --name N --kind requester|reviewer|administrator|operator [--pole P] [--structure ID] [--password-file F] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		email := fs.String("email", "", "email (the sign-in name)")
		name := fs.String("name", "", "the person's name")
		kind := fs.String("kind", "", "requester, reviewer, administrator or operator")
		pole := fs.String("pole", "", "a reviewer's pôle")
		structure := fs.String("structure", "", "a requester's structure id (sinp member structure list)")
		file := fs.String("password-file", "", "a file holding the new account's password (else SINP_NEW_PASSWORD or standard input)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		k, err := auth.ParseKind(*kind)
		if err != nil {
			return cli.Usagef("--kind: %v", err)
		}
		pw, err := password(e, *file, "SINP_NEW_PASSWORD")
		if err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr, true)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.CreateAccount(cctx, &intakev1.CreateAccountRequest{Email: *email, Name: *name, Kind: kindProto(k), Pole: *pole,
			StructureId: *structure, Password: pw})
		if err != nil {
			return fmt.Errorf("user add: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp.Account, func(w io.Writer) { printAccount(w, resp.Account) })
	}
	return c
}

func userListCommand() *cli.Command {
	c := &cli.Command{Name: "list", Summary: "list accounts (administrator, operator)", Usage: "sinp user list [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr, true)
		if err != nil {
			return err
		}
		defer closeFn()
		all := &intakev1.ListAccountsResponse{}
		req := &intakev1.ListAccountsRequest{PageSize: 500}
		for {
			resp, err := cl.ListAccounts(cctx, req)
			if err != nil {
				return fmt.Errorf("user list: %w", err)
			}
			all.Accounts = append(all.Accounts, resp.Accounts...)
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				break
			}
		}
		return e.Output(*asJSON).ResultProto(all, func(w io.Writer) {
			for _, a := range all.Accounts {
				printAccount(w, a)
			}
		})
	}
	return c
}

func userDisableCommand() *cli.Command {
	c := &cli.Command{Name: "disable", Summary: "close an account: its sessions end and its tokens are refused everywhere",
		Usage: "sinp user disable ACCOUNT_ID [--reason R] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		reason := fs.String("reason", "", "why")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("user disable needs an account id")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr, true)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.DisableAccount(cctx, &intakev1.DisableAccountRequest{AccountId: pos[0], Reason: *reason})
		if err != nil {
			return fmt.Errorf("user disable: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp.Account, func(w io.Writer) { printAccount(w, resp.Account) })
	}
	return c
}

func userPasswdCommand() *cli.Command {
	c := &cli.Command{Name: "passwd", Summary: "change a password (yours with --current-password-file; another's as administrator or operator)",
		Usage: "sinp user passwd [ACCOUNT_ID] [--current-password-file F] [--password-file F] [--addr HOST:PORT]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of intake (default: SINP_GRPC_ADDR)")
		current := fs.String("current-password-file", "", "a file holding your current password (your own account)")
		file := fs.String("password-file", "", "a file holding the new password (else SINP_NEW_PASSWORD or standard input)")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		req := &intakev1.SetPasswordRequest{}
		if len(pos) == 1 {
			req.AccountId = pos[0]
		}
		if *current != "" {
			if req.CurrentPassword, err = password(e, *current, ""); err != nil {
				return err
			}
		}
		if req.NewPassword, err = password(e, *file, "SINP_NEW_PASSWORD"); err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr, req.AccountId != "")
		if err != nil {
			return err
		}
		defer closeFn()
		if _, err := cl.SetPassword(cctx, req); err != nil {
			return fmt.Errorf("user passwd: %w", err)
		}
		fmt.Fprintln(e.Stderr, "password changed; every session of the account was closed")
		return nil
	}
	return c
}
