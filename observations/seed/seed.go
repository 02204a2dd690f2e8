// Package seed fills the observation store with a realistic, reproducible
// data set: real (or generated) communes and départements of Occitanie, 10 km
// cells, natural areas, taxa of the six pôles with their statuses, hundreds
// of datasets, and any number of observations (points, lines, polygons and
// attached-only), clustered in space, spread over decades, some sensitive at
// every level and some private. The same seed and options give the same
// content, row for row.
//
// Other modules' tests use it to get a store quickly:
//
//	db := pgtest.NewDB(t, observations.Migrations)
//	res, err := seed.Run(ctx, db, seed.Options{Observations: 20000, Seed: 1, AreasDir: dir})
package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/internal/planar"
	"sinp.occitanie.fr/observations/sensitivity"
	"sinp.occitanie.fr/platform/pg"
)

// Options say what to generate.
type Options struct {
	Observations int    // how many observations
	Seed         uint64 // same seed and options, same data
	// AreasDir holds departements*.geojson and communes-*.geojson (EPSG:4326,
	// properties code and nom), e.g. ../shared/data/geo. Empty: a generated
	// territory of Occitanie's shape and size.
	AreasDir string
	// Referential is a sensitivity referential file (see sensitivity.Read):
	// its taxa and rules make the sensitive data. Empty: synthetic rules.
	Referential string
	// Now is the day the data set is seen from: observations end before its
	// year, sensitivity is attributed on it. Zero: 2025-01-01, so that the
	// content does not depend on the day it is generated.
	Now time.Time
	// Progress, when set, is told how the work goes (total <= 0: unknown).
	Progress func(stage string, done, total int64)
	Workers  int // generator goroutines; zero: one per CPU
}

// Version changes whenever the generator's output changes for the same
// options: part of Options.Key.
const Version = "2"

// Key names the data set the options generate, e.g. as the fill key of
// pgtest.NewFilledDB, which then seeds a template database once and clones it
// in every test.
func (o Options) Key() string {
	now := o.Now
	if now.IsZero() {
		now = DefaultNow
	}
	return fmt.Sprintf("seed-v%s-n%d-s%d-now%s-areas:%s-ref:%s", Version, o.Observations, o.Seed, now.Format("20060102"), o.AreasDir, o.Referential)
}

// DefaultNow is the default point of view of a generated data set.
var DefaultNow = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// SyntheticReferential names the rules generated when no referential is given.
const SyntheticReferential = "synthetique"

// Result describes the generated store and how long it took.
type Result struct {
	Seed            uint64  `json:"seed"`
	Observations    int64   `json:"observations"`
	Geometries      int64   `json:"geometries"`
	Taxa            int     `json:"taxa"`
	Datasets        int     `json:"datasets"`
	Communes        int     `json:"communes"`
	Departements    int     `json:"departements"`
	Cells           int     `json:"mailles10"`
	NaturalAreas    int     `json:"espaces_naturels"`
	Referential     string  `json:"referential"`
	Rules           int     `json:"rules"`
	ReferenceSecs   float64 `json:"reference_seconds"`
	LoadSecs        float64 `json:"load_seconds"`
	IndexSecs       float64 `json:"index_seconds"`
	AnalyzeSecs     float64 `json:"analyze_seconds"`
	TotalSecs       float64 `json:"total_seconds"`
	RatePerSecond   float64 `json:"observations_per_second"` // observations / total time
	LoadPerSecond   float64 `json:"load_observations_per_second"`
	RealAreas       bool    `json:"real_areas"`
	RealReferential bool    `json:"real_referential"`
}

// ErrOptions marks invalid options; the message names the option.
var ErrOptions = errors.New("seed: invalid options")

// Run replaces the content of the store (the oc_dat schema, migrated) with a
// generated data set.
func Run(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Result, error) {
	if opts.Observations < 0 {
		return nil, fmt.Errorf("%w: --observations %d is negative", ErrOptions, opts.Observations)
	}
	if opts.Now.IsZero() {
		opts.Now = DefaultNow
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	start := time.Now()
	res := &Result{Seed: opts.Seed, RealAreas: opts.AreasDir != "", RealReferential: opts.Referential != ""}

	var rules []sensitivity.Rule
	refName, refVer := SyntheticReferential, "1"
	if opts.Referential != "" {
		var err error
		if rules, err = sensitivity.ReadFile(opts.Referential); err != nil {
			return nil, fmt.Errorf("--referential: %w", err)
		}
		refName = strings.TrimSuffix(filepath.Base(opts.Referential), filepath.Ext(opts.Referential))
		if refVer, err = sensitivity.VersionOf(opts.Referential); err != nil {
			return nil, fmt.Errorf("--referential: %w", err)
		}
	}

	progress("reference data", 0, -1)
	w := &world{seed: opts.Seed, today: opts.Now.Year(), refName: refName, refVer: refVer}
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(opts.Seed, 1<<40+k)) }
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `TRUNCATE oc_dat.geo, oc_dat.observation, oc_dat.taxon_statut, oc_dat.taxon,
			oc_dat.jeu_donnees, oc_dat.cadre_acquisition, oc_dat.espace_naturel, oc_dat.maille10, oc_dat.commune,
			oc_dat.departement, oc_dat.sensibilite_regle`); err != nil {
			return fmt.Errorf("seed: empty the store: %w", err)
		}
		if opts.AreasDir != "" {
			if err := loadAreas(ctx, tx, opts.AreasDir); err != nil {
				return err
			}
		} else if err := generateAreas(ctx, tx, stream(1)); err != nil {
			return err
		}
		if err := insertCells(ctx, tx); err != nil {
			return err
		}
		var err error
		if w.communes, err = readAreas(ctx, tx, "commune"); err != nil {
			return err
		}
		if w.depts, err = readAreas(ctx, tx, "departement"); err != nil {
			return err
		}
		if w.cells, err = readCells(ctx, tx); err != nil {
			return err
		}
		if len(w.communes) == 0 {
			return fmt.Errorf("seed: no commune loaded")
		}
		w.buildIndexes()
		w.makeHotspots(stream(2))
		rn := stream(3)
		w.natural = makeNaturalAreas(rn, func() planar.Point {
			if rn.Float64() < 0.7 {
				h := w.hotspots[rn.IntN(len(w.hotspots))]
				return planar.P(h.c.X+rn.NormFloat64()*h.sigma, h.c.Y+rn.NormFloat64()*h.sigma)
			}
			return w.pointIn(rn, w.communes[rn.IntN(len(w.communes))])
		}, w.communes)
		if err := insertNaturalAreas(ctx, tx, w.natural); err != nil {
			return err
		}
		w.buildNaturalIndex()
		w.precompute()

		w.taxa = makeTaxa(stream(4), rules)
		if opts.Referential == "" {
			rules = syntheticRules(stream(5), w.taxa)
		}
		if err := insertTaxa(ctx, tx, w.taxa); err != nil {
			return err
		}
		cdRef := map[int]int{}
		for _, t := range w.taxa {
			cdRef[t.cdRef] = t.cdRef
			for _, s := range t.synonyms {
				cdRef[s.cdNom] = t.cdRef
			}
		}
		w.ref = sensitivity.NewReferential(refName, "", rules, func(n int) (int, bool) { v, ok := cdRef[n]; return v, ok })
		if err := sensitivity.Import(ctx, tx, refName, rules); err != nil {
			return err
		}
		w.buildTaxa(stream(6), w.ref)

		fws := makeFrameworks(stream(7))
		w.datasets = makeDatasets(stream(8), fws)
		if err := insertMetadata(ctx, tx, fws, w.datasets); err != nil {
			return err
		}
		w.buildDatasets()
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Taxa, res.Datasets, res.Communes, res.Departements = len(w.taxa), len(w.datasets), len(w.communes), len(w.depts)
	res.Cells, res.NaturalAreas, res.Referential, res.Rules = len(w.cells), len(w.natural), refName, len(rules)
	res.ReferenceSecs = time.Since(start).Seconds()

	loadStart := time.Now()
	if err := deferDDL(ctx, pool); err != nil {
		return nil, err
	}
	restored := false
	defer func() {
		if !restored {
			// Leave the store indexed even when the load failed.
			_ = restoreDDL(context.WithoutCancel(ctx), pool, func(int64, int64) {})
		}
	}()
	if res.Observations, res.Geometries, err = load(ctx, pool, w, opts, progress); err != nil {
		return nil, err
	}
	res.LoadSecs = time.Since(loadStart).Seconds()

	indexStart := time.Now()
	err = restoreDDL(ctx, pool, func(done, total int64) { progress("indexes", done, total) })
	restored = true
	if err != nil {
		return nil, err
	}
	res.IndexSecs = time.Since(indexStart).Seconds()

	analyzeStart := time.Now()
	progress("analyze", 0, -1)
	if _, err := pool.Exec(ctx, `ANALYZE oc_dat.observation, oc_dat.geo, oc_dat.taxon, oc_dat.commune, oc_dat.maille10,
		oc_dat.departement, oc_dat.espace_naturel, oc_dat.jeu_donnees, oc_dat.sensibilite_regle`); err != nil {
		return nil, fmt.Errorf("seed: analyze: %w", err)
	}
	res.AnalyzeSecs = time.Since(analyzeStart).Seconds()
	res.TotalSecs = time.Since(start).Seconds()
	if res.TotalSecs > 0 {
		res.RatePerSecond = float64(res.Observations) / res.TotalSecs
	}
	if res.LoadSecs > 0 {
		res.LoadPerSecond = float64(res.Observations) / res.LoadSecs
	}
	return res, nil
}

func insertTaxa(ctx context.Context, tx pgx.Tx, taxa []*taxon) error {
	var rows, statuses [][]any
	for _, t := range taxa {
		p := poles[t.pole].code
		rows = append(rows, []any{t.cdRef, t.cdRef, t.name, t.name, t.regne, t.group, p})
		for _, s := range t.synonyms {
			rows = append(rows, []any{s.cdNom, t.cdRef, s.name, t.name, t.regne, t.group, p})
		}
		for code, v := range t.statuses {
			statuses = append(statuses, []any{t.cdRef, code, v})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"oc_dat", "taxon"}, []string{"cd_nom", "cd_ref", "nom_complet", "nom_valide", "regne", "group2_inpn", "pole"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seed: taxa: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"oc_dat", "taxon_statut"}, []string{"cd_ref", "type_statut", "valeur"}, pgx.CopyFromRows(statuses)); err != nil {
		return fmt.Errorf("seed: taxon statuses: %w", err)
	}
	if _, err := tx.Exec(ctx, `REFRESH MATERIALIZED VIEW oc_dat.taxon_statut_large`); err != nil {
		return fmt.Errorf("seed: taxon statuses: %w", err)
	}
	return nil
}

// batchRows is how many observations a generator writes before handing
// them to the COPY streams.
const batchRows = 2000

// load generates the observations in parallel and streams them into
// observation and geo, each through its own COPY.
func load(ctx context.Context, pool *pgxpool.Pool, w *world, opts Options, progress func(string, int64, int64)) (obsN, geoN int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := int64(opts.Observations)
	batches := (total + batchRows - 1) / batchRows
	obsCh := make(chan []byte, 2*opts.Workers)
	geoCh := make(chan []byte, 2*opts.Workers)
	obsFree := make(chan []byte, 4*opts.Workers)
	geoFree := make(chan []byte, 4*opts.Workers)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int64
	)
	fail := func(e error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = e
			cancel()
		}
		mu.Unlock()
	}
	var copyWG sync.WaitGroup
	copyWG.Add(2)
	go func() {
		defer copyWG.Done()
		n, e := copyIn(ctx, pool, "oc_dat.observation", obsColumns, obsCh, obsFree)
		obsN = n
		if e != nil {
			fail(e)
		}
	}()
	go func() {
		defer copyWG.Done()
		n, e := copyIn(ctx, pool, "oc_dat.geo", []string{"id_observation", "geom"}, geoCh, geoFree)
		geoN = n
		if e != nil {
			fail(e)
		}
	}()

	buffer := func(free chan []byte) []byte {
		select {
		case b := <-free:
			return b
		default:
			return make([]byte, 0, 1<<20)
		}
	}
	progress("observations", 0, total)
	for k := range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &generator{w: w}
			for b := int64(k); b < batches; b += int64(opts.Workers) {
				if ctx.Err() != nil {
					return
				}
				obs := copyRow{b: buffer(obsFree)}
				geo := copyRow{b: buffer(geoFree)}
				first, last := b*batchRows+1, min((b+1)*batchRows, total)
				for id := first; id <= last; id++ {
					g.row(id, &obs, &geo)
				}
				select {
				case obsCh <- obs.b:
				case <-ctx.Done():
					return
				}
				select {
				case geoCh <- geo.b:
				case <-ctx.Done():
					return
				}
				mu.Lock()
				done += last - first + 1
				progress("observations", done, total)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(obsCh)
	close(geoCh)
	copyWG.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	return obsN, geoN, nil
}
