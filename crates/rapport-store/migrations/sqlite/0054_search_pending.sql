-- Full-text entries written by one group commit wait here and go into the FTS5 index
-- together just before it commits (`db/writer.rs`, `commit_batch`), in the same transaction. FTS5
-- writes its pending terms to disk as a new segment at every savepoint, and every
-- operation in a group commit runs in its own: entries written straight into the index
-- cost a segment (and later merges) per ticket, this one per commit. Always empty between
-- transactions. SQLite only: PostgreSQL's index takes each entry as it comes.
CREATE TABLE search_pending (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    ticket_id BIGINT,
    ref_id BIGINT NOT NULL
);
