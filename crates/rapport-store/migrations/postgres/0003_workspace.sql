-- Canned responses (macros) and time logged on tickets.
CREATE TABLE macros (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    set_status TEXT,
    set_priority BIGINT,
    add_tags TEXT NOT NULL DEFAULT '[]',
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE time_entries (
    id BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    seconds BIGINT NOT NULL CHECK (seconds > 0),
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX time_entries_ticket ON time_entries(ticket_id);

-- Inbox views an agent saved with their filters (a query string of the list filters).
CREATE TABLE saved_views (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

-- Custom ticket fields an admin defined; the values live in tickets.custom_fields.
CREATE TABLE custom_field_defs (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
