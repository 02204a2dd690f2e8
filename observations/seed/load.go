package seed

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// deferDDL drops the secondary indexes and the unique and foreign-key
// constraints of observation and geo, after saving how to recreate them in
// oc_dat.chargement_ddl_differe. Loading without them and building them once
// at the end is several times faster than maintaining them row by row.
func deferDDL(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO oc_dat.chargement_ddl_differe (objet, table_name, ddl, ordre)
			SELECT i.relname, t.relname, pg_get_indexdef(i.oid), 1
			FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_class t ON t.oid = x.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = 'oc_dat' AND t.relname IN ('observation', 'geo') AND NOT x.indisprimary
			  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('u', 'p', 'x'))
			UNION ALL
			SELECT c.conname, t.relname,
			       format('ALTER TABLE oc_dat.%I ADD CONSTRAINT %I %s', t.relname, c.conname, pg_get_constraintdef(c.oid)),
			       CASE c.contype WHEN 'u' THEN 2 ELSE 3 END
			FROM pg_constraint c
			JOIN pg_class t ON t.oid = c.conrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = 'oc_dat' AND t.relname IN ('observation', 'geo') AND c.contype IN ('u', 'f')
			ON CONFLICT (objet) DO NOTHING`); err != nil {
			return fmt.Errorf("seed: save index definitions: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT c.conname, t.relname FROM pg_constraint c
			JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = 'oc_dat' AND t.relname IN ('observation', 'geo') AND c.contype IN ('u', 'f')
			ORDER BY c.contype = 'f' DESC`)
		if err != nil {
			return err
		}
		var drops []string
		for rows.Next() {
			var name, table string
			if err := rows.Scan(&name, &table); err != nil {
				return err
			}
			drops = append(drops, fmt.Sprintf("ALTER TABLE oc_dat.%s DROP CONSTRAINT %s", pgx.Identifier{table}.Sanitize(), pgx.Identifier{name}.Sanitize()))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT objet FROM oc_dat.chargement_ddl_differe d WHERE ordre = 1
			AND EXISTS (SELECT 1 FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = 'oc_dat' AND i.relname = d.objet)`)
		if err != nil {
			return err
		}
		indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range indexes {
			drops = append(drops, "DROP INDEX oc_dat."+pgx.Identifier{name}.Sanitize())
		}
		for _, d := range drops {
			if _, err := tx.Exec(ctx, d); err != nil {
				return fmt.Errorf("seed: %s: %w", d, err)
			}
		}
		return nil
	})
}

// restoreDDL recreates what deferDDL dropped, indexes first (two at a time,
// the largest first), then the constraints.
func restoreDDL(ctx context.Context, pool *pgxpool.Pool, progress func(done, total int64)) error {
	rows, err := pool.Query(ctx, `SELECT objet, ddl, ordre FROM oc_dat.chargement_ddl_differe ORDER BY ordre, objet`)
	if err != nil {
		return fmt.Errorf("seed: read deferred definitions: %w", err)
	}
	type item struct {
		name, ddl string
		order     int
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (item, error) {
		var it item
		return it, r.Scan(&it.name, &it.ddl, &it.order)
	})
	if err != nil {
		return err
	}
	cost := func(ddl string) int {
		switch {
		case strings.Contains(ddl, "USING gist"):
			return 0
		case strings.Contains(ddl, "USING gin"):
			return 1
		}
		return 2
	}
	sort.SliceStable(items, func(a, b int) bool {
		if items[a].order != items[b].order {
			return items[a].order < items[b].order
		}
		return cost(items[a].ddl) < cost(items[b].ddl)
	})
	total, done := int64(len(items)), int64(0)
	progress(0, total)
	var mu sync.Mutex
	for start := 0; start < len(items); {
		end := start
		for end < len(items) && items[end].order == items[start].order {
			end++
		}
		group := items[start:end]
		next := make(chan item)
		errs := make(chan error, 2)
		var wg sync.WaitGroup
		for range min(2, len(group)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := pool.Acquire(ctx)
				if err != nil {
					errs <- err
					return
				}
				defer conn.Release()
				if _, err := conn.Exec(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
					errs <- err
					return
				}
				for it := range next {
					if _, err := conn.Exec(ctx, it.ddl); err != nil {
						errs <- fmt.Errorf("seed: recreate %s: %w", it.name, err)
						return
					}
					if _, err := conn.Exec(ctx, `DELETE FROM oc_dat.chargement_ddl_differe WHERE objet = $1`, it.name); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					done++
					progress(done, total)
					mu.Unlock()
				}
			}()
		}
		var failed error
	feed:
		for _, it := range group {
			select {
			case next <- it:
			case failed = <-errs:
				break feed
			}
		}
		close(next)
		wg.Wait()
		close(errs)
		if failed == nil {
			failed = <-errs
		}
		if failed != nil {
			return failed
		}
		start = end
	}
	return nil
}

// copyIn streams batches of COPY text rows into table through one
// connection.
func copyIn(ctx context.Context, pool *pgxpool.Pool, table string, cols []string, batches <-chan []byte, recycle chan<- []byte) (int64, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return 0, err
	}
	pr, pw := io.Pipe()
	go func() {
		for b := range batches {
			if _, err := pw.Write(b); err != nil {
				// The COPY failed; drain so the generators finish.
				for b := range batches {
					_ = b
				}
				return
			}
			select {
			case recycle <- b[:0]:
			default:
			}
		}
		pw.Close()
	}()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, pr, fmt.Sprintf("COPY %s (%s) FROM STDIN", table, strings.Join(cols, ", ")))
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return 0, fmt.Errorf("seed: COPY %s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}
