-- The clock of the whole deployment: one row every process reads. A
-- process's "now" is base + (its wall time - wall) * factor for an
-- accelerated clock, base for a manual one, its wall time for the real one.
-- Written only through the clock's operator API (`sinp clock advance|set`),
-- which notifies channel sinp_clock so that every process re-reads it.
CREATE TABLE clock (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    kind        text NOT NULL CHECK (kind IN ('real', 'manual', 'accelerated')),
    base        timestamptz NOT NULL,
    wall        timestamptz NOT NULL,
    factor      double precision NOT NULL DEFAULT 1 CHECK (factor >= 1),
    generation  bigint NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT ''
);
