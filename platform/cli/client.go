package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/config"
)

// ClientConfig is how a command reaches a running process and says who
// it is.
type ClientConfig struct {
	Addr    string `env:"SINP_GRPC_ADDR" default:"127.0.0.1:7400"`
	DataDir string `env:"SINP_DATA_DIR" default:".data"`
	// A token to send (else the one `sinp login` saved).
	Token string `env:"SINP_TOKEN"`
	// Where `sinp login` saves its token (default ~/.config/sinp/token).
	TokenFile string `env:"SINP_TOKEN_FILE"`
	// The deployment's signing key: an operator who can read it may act
	// without signing in (operator commands only).
	KeyFile string `env:"SINP_AUTH_KEY_FILE"`
}

func (e *Env) clientConfig() (ClientConfig, error) {
	var c ClientConfig
	err := config.Load(&c, e.Lookup)
	return c, err
}

// Dial connects to a running process's gRPC server (addr, or
// SINP_GRPC_ADDR when empty).
func (e *Env) Dial(addr string) (*grpc.ClientConn, error) {
	if addr == "" {
		c, err := e.clientConfig()
		if err != nil {
			return nil, err
		}
		addr = c.Addr
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", addr, err)
	}
	return conn, nil
}

// TokenFile is where `sinp login` keeps its token (SINP_TOKEN_FILE, else
// ~/.config/sinp/token).
func (e *Env) TokenFile() (string, error) {
	c, err := e.clientConfig()
	if err != nil {
		return "", err
	}
	f := c.tokenFile()
	if f == "" {
		return "", errors.New("no configuration folder to keep the token in: set SINP_TOKEN_FILE")
	}
	return f, nil
}

func (c ClientConfig) tokenFile() string {
	if c.TokenFile != "" {
		return c.TokenFile
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "sinp", "token")
}

// SavedToken is the token of SINP_TOKEN or of the last `sinp login`.
func (e *Env) SavedToken() (string, error) {
	c, err := e.clientConfig()
	if err != nil {
		return "", err
	}
	if c.Token != "" {
		return c.Token, nil
	}
	if f := c.tokenFile(); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			return strings.TrimSpace(string(b)), nil
		}
	}
	return "", nil
}

// SaveToken keeps a token for the next commands (readable by its owner
// only).
func (e *Env) SaveToken(token string) (string, error) {
	c, err := e.clientConfig()
	if err != nil {
		return "", err
	}
	f := c.tokenFile()
	if f == "" {
		return "", errors.New("no configuration folder to keep the token in: set SINP_TOKEN_FILE")
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return "", err
	}
	return f, WritePrivate(f, []byte(token+"\n"))
}

// WritePrivate replaces a file with data readable by its owner only: a new
// file of mode 0600 renamed over it, so that an older file's mode (or
// owner) never shows the new secret, not even for a moment.
func WritePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// UserContext returns ctx carrying the saved token, if any.
func (e *Env) UserContext(ctx context.Context) (context.Context, error) {
	tok, err := e.SavedToken()
	if err != nil || tok == "" {
		return ctx, err
	}
	return auth.WithToken(ctx, tok), nil
}

// OperatorContext returns ctx carrying an operator's token: SINP_TOKEN
// when set; else a five-minute token signed with the deployment's key, for
// an operator on a machine that holds it; else the token `sinp login`
// saved (an operator's account).
func (e *Env) OperatorContext(ctx context.Context) (context.Context, error) {
	c, err := e.clientConfig()
	if err != nil {
		return ctx, err
	}
	if c.Token != "" {
		return auth.WithToken(ctx, c.Token), nil
	}
	path := c.KeyFile
	if path == "" || path == "-" {
		path = filepath.Join(c.DataDir, "auth", "signing.key")
	}
	s, kerr := auth.ReadKey(path)
	if kerr != nil {
		if tok, err := e.SavedToken(); err == nil && tok != "" {
			return auth.WithToken(ctx, tok), nil
		}
		return ctx, fmt.Errorf("this command needs an operator: set SINP_TOKEN (`sinp token issue --kind operator` where the signing key is), sign in as an operator, or run it where %s can be read: %w", path, kerr)
	}
	name := "operator"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	tok, _, err := s.Issue(auth.Principal{Kind: auth.Operator, Subject: "local:" + name, Name: name}, time.Now(), 5*time.Minute)
	if err != nil {
		return ctx, err
	}
	return auth.WithToken(ctx, tok), nil
}

// Caller is whom a command calls a service as.
type Caller int

const (
	// AsUser: the saved login or SINP_TOKEN (none: anonymously).
	AsUser Caller = iota
	// AsOperator: SINP_TOKEN, else the local operator (a token minted
	// with the deployment's signing key), else the saved login.
	AsOperator
	// AsUserOrOperator: the saved login or SINP_TOKEN when there is one,
	// else the local operator (bootstrap commands such as the first
	// account).
	AsUserOrOperator
)

// Connect dials a running process (addr, or SINP_GRPC_ADDR) and returns
// one service's client, the context that carries the caller's token, and
// the function that closes the connection.
func Connect[C any](ctx context.Context, e *Env, addr string, as Caller, newClient func(grpc.ClientConnInterface) C) (C, context.Context, func(), error) {
	var zero C
	conn, err := e.Dial(addr)
	if err != nil {
		return zero, nil, nil, err
	}
	var cctx context.Context
	switch as {
	case AsOperator:
		cctx, err = e.OperatorContext(ctx)
	case AsUserOrOperator:
		if tok, _ := e.SavedToken(); tok == "" {
			cctx, err = e.OperatorContext(ctx)
		} else {
			cctx, err = e.UserContext(ctx)
		}
	default:
		cctx, err = e.UserContext(ctx)
	}
	if err != nil {
		conn.Close()
		return zero, nil, nil, err
	}
	return newClient(conn), cctx, func() { conn.Close() }, nil
}

// When is an instant as commands print it: RFC 3339 in UTC, "-" when
// unset (nil, Go's zero time, or protobuf's zero value, the epoch).
func When(t *timestamppb.Timestamp) string {
	if t == nil || t.AsTime().IsZero() || (t.Seconds == 0 && t.Nanos == 0) {
		return "-"
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

// Enum is an enum value as commands print it: lower case, without the
// prefix its type gives every value.
func Enum(s fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}

// One is the single argument a command takes, or a usage error saying
// what is needed.
func One(args []string, need string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", Usagef("%s", need)
	}
	return args[0], nil
}
