-- The search index's recent part (PostgreSQL): a second, partial GIN index over the newest
-- index entries only (`id > floor`), built and renewed by `search::renew_recent` with
-- CREATE INDEX CONCURRENTLY as the table grows, so a search among the newest entries
-- decodes short posting lists instead of every match in the whole table. This row says
-- which index is the current one and where it starts; no row, no recent index.
CREATE TABLE search_recent (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    floor BIGINT NOT NULL,
    index_name TEXT NOT NULL
);
