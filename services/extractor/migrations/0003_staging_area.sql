-- The deployment's staging area, by the id its mark carries: a folder
-- without that mark (a volume not mounted, its mount point empty) is not
-- taken for it, whether or not anything is staged at the time.
CREATE TABLE extractor.staging_area (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    id         text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
