-- The event stream: a position that follows commit order, and durable subscriber cursors.
--
-- On SQLite one writer commits in id order, so `tx` stays 0 and the position is the id.
ALTER TABLE events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN event_tx BIGINT NOT NULL DEFAULT 0;
CREATE INDEX events_stream ON events(tx, id);

CREATE TABLE subscriptions (
    name TEXT PRIMARY KEY,
    tx BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
