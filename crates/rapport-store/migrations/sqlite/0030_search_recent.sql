-- PostgreSQL's search uses this table (a partial GIN index over the newest search entries,
-- see the PostgreSQL file); SQLite's FTS5 reads a word's matches newest first and needs no
-- such index. The table exists here too so both databases have the same schema; it stays
-- empty.
CREATE TABLE search_recent (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    floor BIGINT NOT NULL,
    index_name TEXT NOT NULL
);
