// Package logging builds the process logger (log/slog) and carries it in
// contexts.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config selects level and format.
type Config struct {
	Level  string `env:"SINP_LOG_LEVEL" default:"info"`
	Format string `env:"SINP_LOG_FORMAT" default:"text"`
}

// Validate checks level and format.
func (c *Config) Validate() error {
	if _, err := level(c.Level); err != nil {
		return err
	}
	if c.Format != "text" && c.Format != "json" {
		return fmt.Errorf("SINP_LOG_FORMAT=%q: want text or json", c.Format)
	}
	return nil
}

func level(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("SINP_LOG_LEVEL=%q: want debug, info, warn or error", s)
	}
	return l, nil
}

// New returns a logger writing to w.
func New(c Config, w io.Writer) *slog.Logger {
	l, _ := level(c.Level)
	opts := &slog.HandlerOptions{Level: l}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

type key struct{}

// WithLogger puts a logger in a context.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// FromContext returns the context's logger, or the default one.
func FromContext(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
