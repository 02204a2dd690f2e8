package extractor

import (
	"errors"
	"fmt"
	"time"

	"sinp.occitanie.fr/platform/archivekey"

	"sinp.occitanie.fr/sevenz"
)

// Config is the extractor's part of the environment.
type Config struct {
	// Staging area the requesters cannot reach; default <data dir>/staging.
	StagingDir string `env:"SINP_STAGING_DIR"`
	// Off-peak window ("always" or "HH:MM-HH:MM") in WindowZone.
	Window     string `env:"SINP_EXTRACT_WINDOW" default:"always"`
	WindowZone string `env:"SINP_EXTRACT_WINDOW_ZONE" default:"Europe/Paris"`
	// Extractions running at once in this process.
	Concurrency int `env:"SINP_EXTRACT_CONCURRENCY" default:"1"`
	// Attempts before a run is declared failed.
	MaxAttempts int `env:"SINP_EXTRACT_MAX_ATTEMPTS" default:"3"`
	// How long a worker's claim on a run lasts without renewal.
	Lease time.Duration `env:"SINP_EXTRACT_LEASE" default:"1m"`
	// How often ExtractionProgress is published during a run.
	ProgressEvery time.Duration `env:"SINP_EXTRACT_PROGRESS_EVERY" default:"5s"`
	Codec         string        `env:"SINP_EXTRACT_CODEC" default:"lzma2"`
	Level         int           `env:"SINP_EXTRACT_LEVEL" default:"0"`
	// Unit of parallel compression, and how far back (history) a block may
	// find a repeat (0: sevenz's defaults).
	BlockSize int `env:"SINP_EXTRACT_BLOCK_SIZE" default:"0"`
	History   int `env:"SINP_EXTRACT_HISTORY" default:"0"`
	// check: read every archive back at disk speed (header and packed
	// stream CRCs); full: decode it all with an independent reader.
	Verify string `env:"SINP_EXTRACT_VERIFY" default:"check"`
	// F2 archives are AES-256 encrypted, each with a password of its own
	// derived from the deployment's secret (shared with delivery, which
	// shows it to the entitled requester). Empty: <data dir>/secrets/f2.secret.
	F2SecretFile string `env:"SINP_F2_SECRET_FILE"`
	F2Encrypt    bool   `env:"SINP_F2_ENCRYPT" default:"true"`
}

// Validate checks the values; errors name the variable.
func (c *Config) Validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, errors.New("SINP_EXTRACT_CONCURRENCY: must be at least 1"))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, errors.New("SINP_EXTRACT_MAX_ATTEMPTS: must be at least 1"))
	}
	if c.Lease < time.Second {
		errs = append(errs, errors.New("SINP_EXTRACT_LEASE: must be at least 1s"))
	}
	if c.ProgressEvery <= 0 {
		errs = append(errs, errors.New("SINP_EXTRACT_PROGRESS_EVERY: must be positive"))
	}
	if _, err := sevenz.ParseCodec(c.Codec); err != nil {
		errs = append(errs, fmt.Errorf("SINP_EXTRACT_CODEC: %w", err))
	}
	if c.Verify != "check" && c.Verify != "full" {
		errs = append(errs, fmt.Errorf("SINP_EXTRACT_VERIFY=%q: want check or full", c.Verify))
	}
	if _, err := time.LoadLocation(c.WindowZone); err != nil {
		errs = append(errs, fmt.Errorf("SINP_EXTRACT_WINDOW_ZONE: %w", err))
	}
	return errors.Join(errs...)
}

// passwords gives each F2 archive its password (nil: not encrypted).
func (c *Config) secret(dataDir string) (archivekey.Secret, error) {
	if !c.F2Encrypt {
		return nil, nil
	}
	return archivekey.LoadOrCreate(archivekey.Path(c.F2SecretFile, dataDir))
}
