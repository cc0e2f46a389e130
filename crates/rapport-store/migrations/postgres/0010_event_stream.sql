-- The event stream: a position that follows commit order, and durable subscriber cursors.
--
-- Event ids are handed out before commit, so a transaction that commits late can show an
-- id below one a reader has already passed. Each event therefore also carries `tx`: the
-- writing transaction's id, or a later value that keeps one ticket's events in commit
-- order (see events.rs). A reader only takes events whose `tx` is below the oldest
-- transaction still running, so nothing can appear behind it.
ALTER TABLE events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
ALTER TABLE tickets ADD COLUMN event_tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ALTER COLUMN event_tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_stream ON events(tx, id);

CREATE TABLE subscriptions (
    name TEXT PRIMARY KEY,
    tx BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
