CREATE TABLE demo.thing (id bigint PRIMARY KEY, label text NOT NULL);
