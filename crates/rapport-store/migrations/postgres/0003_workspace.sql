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
