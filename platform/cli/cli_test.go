package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseAcceptsFlagsAfterArguments(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	pos, err := Parse(fs, []string{"36h", "--addr", "h:1", "more"})
	if err != nil || *addr != "h:1" || strings.Join(pos, " ") != "36h more" {
		t.Fatalf("pos=%q addr=%q err=%v", pos, *addr, err)
	}
}

func TestDispatchUnknownCommandIsAUsageError(t *testing.T) {
	var out bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &out}
	ran := false
	cmds := []*Command{{Name: "seed", Summary: "fill", Run: func(context.Context, *Env, []string) error { ran = true; return nil }}}
	if err := Dispatch(context.Background(), e, "sinp", cmds, []string{"sed"}); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), `"sed"`) {
		t.Fatalf("err = %v", err)
	}
	if err := Dispatch(context.Background(), e, "sinp", cmds, []string{"seed"}); err != nil || !ran {
		t.Fatalf("seed not run: %v", err)
	}
	if !strings.Contains(out.String(), "seed") {
		t.Fatalf("command list not printed: %q", out.String())
	}
}

func TestOutputIsJSONWhenNotATerminal(t *testing.T) {
	var out bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &out}
	o := e.Output(false)
	o.Progress("rows", 5, 10) // not a terminal: silent
	_ = o.Result(map[string]int{"rows": 10}, func(io.Writer) {})
	if got := strings.TrimSpace(out.String()); got != `{"rows":10}` {
		t.Fatalf("output %q", got)
	}
}
