// Package cli carries what every `sinp` sub-command shares: the command
// table, access to the platform database, and output that shows progress on
// a terminal and stays quiet and parseable (JSON) otherwise.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/localpg"
	"sinp.occitanie.fr/platform/pg"
)

// Command is one `sinp` sub-command. A command with Sub dispatches on its
// first argument ("sinp clock advance 36h").
type Command struct {
	Name    string
	Summary string // one line for the command list
	Usage   string // e.g. "sinp seed [--observations N] [--seed S]"
	Run     func(ctx context.Context, e *Env, args []string) error
	Sub     []*Command
}

// Env is what a command is given instead of globals.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Lookup config.Lookuper
	Log    *slog.Logger

	mu     sync.Mutex
	server *localpg.Server
}

// DatabaseConfig is the part of the environment commands use to reach the
// platform database.
type DatabaseConfig struct {
	DataDir  string `env:"SINP_DATA_DIR" default:".data"`
	Database pg.Config
}

// Database returns a pool on the platform database: SINP_DATABASE_URL when
// set, else the local server (system or private cluster, see localpg).
func (e *Env) Database(ctx context.Context) (*pgxpool.Pool, error) {
	var c DatabaseConfig
	if err := config.Load(&c, e.Lookup); err != nil {
		return nil, err
	}
	s, err := e.LocalServer(ctx, c)
	if err != nil {
		return nil, err
	}
	return pg.Connect(ctx, s.URL, c.Database.MaxConns)
}

// LocalServer finds (and remembers) the database server for this process.
func (e *Env) LocalServer(ctx context.Context, c DatabaseConfig) (*localpg.Server, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.server != nil {
		return e.server, nil
	}
	s, err := localpg.Ensure(ctx, localpg.Options{URL: c.Database.URL, DataDir: c.DataDir, Log: e.Log})
	if err != nil {
		return nil, err
	}
	e.server = s
	return s, nil
}

// Flags returns a flag set that reports errors instead of exiting and prints
// the command's usage on --help.
func (c *Command) Flags(e *Env) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "%s\n\nusage: %s\n", c.Summary, c.Usage)
		if hasFlags(fs) {
			fmt.Fprintln(e.Stderr, "\noptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// ErrUsage marks a command-line mistake; main exits with status 2.
var ErrUsage = errors.New("usage")

// Usagef returns an ErrUsage error with a message.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Dispatch runs the command named by args[0] among cmds.
func Dispatch(ctx context.Context, e *Env, prog string, cmds []*Command, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		PrintCommands(e.Stderr, prog, cmds)
		if len(args) == 0 {
			return Usagef("%s needs a command", prog)
		}
		return nil
	}
	for _, c := range cmds {
		if c.Name != args[0] {
			continue
		}
		if len(c.Sub) > 0 && (c.Run == nil || len(args) > 1 && !strings.HasPrefix(args[1], "-")) {
			return Dispatch(ctx, e, prog+" "+c.Name, c.Sub, args[1:])
		}
		err := c.Run(ctx, e, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	PrintCommands(e.Stderr, prog, cmds)
	return Usagef("%s: unknown command %q", prog, args[0])
}

// PrintCommands lists commands with their summaries.
func PrintCommands(w io.Writer, prog string, cmds []*Command) {
	fmt.Fprintf(w, "usage: %s <command> [options]   (%s <command> --help for its options)\n\ncommands:\n", prog, prog)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-14s %s\n", c.Name, c.Summary)
	}
}

// Output shows progress on a terminal and nothing else there is not asked
// for; with --json, or when stdout is not a terminal, results are JSON.
type Output struct {
	w        io.Writer
	progress io.Writer // nil when progress is not shown
	JSON     bool
	last     time.Time
	mu       sync.Mutex
}

// Output returns the output of a command; jsonFlag is its --json flag.
func (e *Env) Output(jsonFlag bool) *Output {
	o := &Output{w: e.Stdout, JSON: jsonFlag || !IsTerminal(e.Stdout)}
	if !o.JSON && IsTerminal(e.Stderr) {
		o.progress = e.Stderr
	}
	return o
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress redraws one status line on a terminal, at most ten times a
// second; total <= 0 means unknown.
func (o *Output) Progress(stage string, done, total int64) {
	if o.progress == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if now.Sub(o.last) < 100*time.Millisecond && done != total {
		return
	}
	o.last = now
	if total > 0 {
		fmt.Fprintf(o.progress, "\r\033[K%s: %d/%d (%.0f%%)", stage, done, total, 100*float64(done)/float64(total))
	} else {
		fmt.Fprintf(o.progress, "\r\033[K%s: %d", stage, done)
	}
}

// Done ends a progress line.
func (o *Output) Done() {
	if o.progress != nil {
		fmt.Fprint(o.progress, "\r\033[K")
	}
}

// Result prints v as JSON, or calls human to print it for a person.
func (o *Output) Result(v any, human func(w io.Writer)) error {
	o.Done()
	if o.JSON {
		enc := json.NewEncoder(o.w)
		return enc.Encode(v)
	}
	human(o.w)
	return nil
}

// Parse parses flags placed anywhere among the arguments ("advance 36h
// --addr X" as well as "advance --addr X 36h") and returns the positional
// arguments.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// ResultProto prints a protobuf message as JSON (field names as in the
// .proto files, enums by name), or calls human to print it for a person.
func (o *Output) ResultProto(m proto.Message, human func(w io.Writer)) error {
	o.Done()
	if o.JSON {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.w, "%s\n", b)
		return err
	}
	human(o.w)
	return nil
}
