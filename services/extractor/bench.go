package extractor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/services/extractor/extraction"
)

// measure is one method's run in the benchmark.
type measure struct {
	Scope    string  `json:"scope"`
	Method   string  `json:"method"`
	Seconds  float64 `json:"seconds"`
	Rows     int64   `json:"rows"`
	RowsPerS float64 `json:"rows_per_second"`
	Bytes    int64   `json:"archive_bytes"`
	// F1Bytes is the F1 archive alone.
	F1Bytes   int64   `json:"f1_archive_bytes"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

func benchCommand() *cli.Command {
	c := &cli.Command{
		Name:    "bench-extract",
		Summary: "compare the extractor with the former shell procedure (psql \\copy | 7zz a) and the COPY floor",
		Usage:   "sinp bench-extract [--scopes region,departement:31] [--adherent] [--work DIR] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		scopes := fs.String("scopes", "region,departement:31", "perimeters: region (every département) or kind:code")
		adherent := fs.Bool("adherent", false, "extract for an adherent (F2 archives too)")
		work := fs.String("work", "", "scratch folder for the archives (default: a temporary one, removed)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		for _, tool := range []string{"psql", "7zz"} {
			if _, err := exec.LookPath(tool); err != nil {
				return fmt.Errorf("bench-extract needs %s (./scripts/setup.sh installs it): %w", tool, err)
			}
		}
		var dc cli.DatabaseConfig
		if err := loadEnv(e, &dc); err != nil {
			return err
		}
		server, err := e.LocalServer(ctx, dc)
		if err != nil {
			return err
		}
		dir := *work
		if dir == "" {
			if dir, err = os.MkdirTemp("", "sinp-bench-"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		out := e.Output(*asJSON)
		var results []measure
		for scope := range strings.SplitSeq(*scopes, ",") {
			areas, err := scopeAreas(ctx, e, strings.TrimSpace(scope))
			if err != nil {
				return err
			}
			psqlOf := func(f2Pole string) *exec.Cmd {
				copyCmd := `\copy (` + extraction.ShellQuery(areas, f2Pole) + `) TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER)`
				return exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server.URL, "-c", copyCmd)
			}
			psql := func() *exec.Cmd { return psqlOf("") }
			// Each method runs right after an unmeasured COPY, so that each
			// finds the store in the caches (this VM's page cache shrinks
			// under the archives a method writes).
			warm := func(what string) error {
				out.Progress(scope+": warming up for "+what, 0, 0)
				if _, err := runMeasured(psql(), io.Discard); err != nil {
					return fmt.Errorf("warm-up COPY: %w", err)
				}
				return nil
			}

			if err := warm("the extractor"); err != nil {
				return err
			}
			out.Progress(scope+": extractor", 0, 0)
			var areaArgs []string
			for _, a := range areas {
				areaArgs = append(areaArgs, a.Kind+":"+a.Code)
			}
			exDir := filepath.Join(dir, "extractor-"+safe(scope))
			ex := exec.CommandContext(ctx, self, "extract", "--areas", strings.Join(areaArgs, ","), "--out", exDir,
				"--reference", "BENCH", "--json")
			if *adherent {
				ex.Args = append(ex.Args, "--adherent")
			}
			ex.Env = append(os.Environ(), "SINP_DATABASE_URL="+server.URL)
			var exOut bytes.Buffer
			exM, err := runMeasured(ex, &exOut)
			if err != nil {
				return fmt.Errorf("extractor: %w", err)
			}
			var res extraction.Result
			if err := json.Unmarshal(exOut.Bytes(), &res); err != nil {
				return fmt.Errorf("extractor output: %w", err)
			}
			var f2Poles []string
			for _, d := range res.Deliverables {
				exM.Bytes += d.Bytes
				if d.Key.File == extraction.F1 {
					exM.F1Bytes += d.Bytes
				} else {
					f2Poles = append(f2Poles, d.Key.Pole)
				}
			}
			_ = os.RemoveAll(exDir)

			if err := warm("the COPY floor"); err != nil {
				return err
			}
			out.Progress(scope+": COPY floor", 0, 0)
			floor, err := runMeasured(psql(), io.Discard)
			if err != nil {
				return fmt.Errorf("COPY floor: %w", err)
			}

			if err := warm("the shell procedure"); err != nil {
				return err
			}
			out.Progress(scope+": shell procedure", 0, 0)
			archive := filepath.Join(dir, "shell-"+safe(scope)+"-F1.7z")
			shell, err := shellProcedure(ctx, psql(), "F1.csv", archive)
			if err != nil {
				return fmt.Errorf("shell procedure: %w", err)
			}
			_ = os.Remove(archive)
			shell.F1Bytes = shell.Bytes
			// For an adherent the procedure made each pôle's F2 the same
			// way, one after the other: the comparison is then of the same
			// rows and deliverables.
			for _, pole := range f2Poles {
				out.Progress(scope+": shell procedure, F2 "+pole, 0, 0)
				name := "F2_" + safe(pole)
				archive := filepath.Join(dir, "shell-"+safe(scope)+"-"+name+".7z")
				f2, err := shellProcedure(ctx, psqlOf(pole), name+".csv", archive)
				if err != nil {
					return fmt.Errorf("shell procedure, F2 %s: %w", pole, err)
				}
				_ = os.Remove(archive)
				shell.Seconds += f2.Seconds
				shell.Bytes += f2.Bytes
				shell.PeakRSSMB = max(shell.PeakRSSMB, f2.PeakRSSMB)
			}

			for _, m := range []*measure{&floor, &shell, &exM} {
				m.Scope = scope
				m.Rows = res.Selected
				m.RowsPerS = float64(m.Rows) / m.Seconds
			}
			floor.Method, shell.Method, exM.Method = "copy-floor", "shell (psql | 7zz a -si)", "extractor"
			if len(f2Poles) > 0 {
				shell.Method = fmt.Sprintf("shell, F1 + %d F2", len(f2Poles))
			}
			results = append(results, floor, shell, exM)
		}
		return out.Result(results, func(w io.Writer) { printBench(w, results) })
	}
	return c
}

func loadEnv(e *cli.Env, dst any) error { return config.Load(dst, e.Lookup) }

func safe(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// scopeAreas turns "region" into every département, "kind:code" into one area.
func scopeAreas(ctx context.Context, e *cli.Env, scope string) ([]extraction.AreaRef, error) {
	if scope != "region" {
		kind, code, ok := strings.Cut(scope, ":")
		if !ok {
			return nil, cli.Usagef("--scopes %q: want region or kind:code", scope)
		}
		return []extraction.AreaRef{{Kind: kind, Code: code}}, nil
	}
	db, err := e.Database(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(ctx, `SELECT code FROM oc_dat.v_extract_area WHERE kind = 'departement' ORDER BY code`)
	if err != nil {
		return nil, err
	}
	var areas []extraction.AreaRef
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return nil, err
		}
		areas = append(areas, extraction.AreaRef{Kind: extraction.KindDepartement, Code: code})
	}
	return areas, rows.Err()
}

// runMeasured runs a command with its stdout to w and returns its wall
// time and peak RSS.
func runMeasured(cmd *exec.Cmd, w io.Writer) (measure, error) {
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measure{Seconds: time.Since(start).Seconds()}
	if err != nil {
		return m, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(stderr.String()))
	}
	m.PeakRSSMB = peakRSS(cmd)
	return m, nil
}

func peakRSS(cmd *exec.Cmd) float64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return 0
}

// shellProcedure runs psql \copy piped into 7zz a -si with 7-Zip's
// defaults, the CSV named name in the archive.
func shellProcedure(ctx context.Context, psql *exec.Cmd, name, archive string) (measure, error) {
	// 7zz a adds to an archive that exists: one left by a failed run
	// would count twice.
	if err := os.Remove(archive); err != nil && !os.IsNotExist(err) {
		return measure{}, err
	}
	zip := exec.CommandContext(ctx, "7zz", "a", "-bso0", "-bsp0", "-si"+name, archive)
	pipe, err := psql.StdoutPipe()
	if err != nil {
		return measure{}, err
	}
	zip.Stdin = pipe
	var e1, e2 bytes.Buffer
	psql.Stderr, zip.Stderr = &e1, &e2
	start := time.Now()
	if err := zip.Start(); err != nil {
		return measure{}, err
	}
	if err := psql.Start(); err != nil {
		return measure{}, err
	}
	errPsql := psql.Wait()
	errZip := zip.Wait()
	m := measure{Seconds: time.Since(start).Seconds()}
	if errPsql != nil || errZip != nil {
		return m, fmt.Errorf("psql: %v %s; 7zz: %v %s", errPsql, e1.String(), errZip, e2.String())
	}
	m.PeakRSSMB = max(peakRSS(psql), peakRSS(zip))
	st, err := os.Stat(archive)
	if err != nil {
		return m, err
	}
	m.Bytes = st.Size()
	return m, nil
}

func printBench(w io.Writer, rs []measure) {
	fmt.Fprintf(w, "%-22s %-26s %9s %10s %14s %14s %10s\n", "scope", "method", "wall s", "rows/s", "archive bytes", "F1 bytes", "peak RSS")
	for _, m := range rs {
		fmt.Fprintf(w, "%-22s %-26s %9.1f %10.0f %14d %14d %8.0f MB\n", m.Scope, m.Method, m.Seconds, m.RowsPerS, m.Bytes, m.F1Bytes, m.PeakRSSMB)
	}
	for i := 0; i+2 < len(rs); i += 3 {
		floor, shell, ex := rs[i], rs[i+1], rs[i+2]
		fmt.Fprintf(w, "%s (%d rows): extractor %.1fx faster than the shell procedure; archives %.2fx its archives' bytes (F1 %.2fx its F1.7z; all against its F1.7z alone %.2fx); %.2fx the COPY floor's wall time\n",
			ex.Scope, ex.Rows, shell.Seconds/ex.Seconds, float64(ex.Bytes)/float64(shell.Bytes), float64(ex.F1Bytes)/float64(shell.F1Bytes),
			float64(ex.Bytes)/float64(shell.F1Bytes), ex.Seconds/floor.Seconds)
	}
}
