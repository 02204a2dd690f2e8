package observations_test

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/platform/pg"
)

func pgMigrate(db *pgxpool.Pool) ([]pg.Applied, error) {
	return pg.Migrate(context.Background(), db, observations.Migrations)
}
