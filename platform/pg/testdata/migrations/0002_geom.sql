ALTER TABLE demo.thing ADD COLUMN geom geometry(Point, 2154);
