-- The email channel: mailboxes Rapport receives for, every inbound message's raw source
-- (kept forever, committed before the SMTP 250), and the Message-IDs that thread replies.
CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE inbound_mail (
    id INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    envelope_from TEXT NOT NULL,
    message_id TEXT,
    raw BLOB NOT NULL,
    size INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    processed_at INTEGER,
    ticket_id INTEGER REFERENCES tickets(id),
    outcome TEXT,
    error TEXT
);
CREATE UNIQUE INDEX inbound_mail_message_id ON inbound_mail(mailbox_id, message_id);

CREATE TABLE mail_threads (
    message_id TEXT PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_threads_ticket ON mail_threads(ticket_id);

-- Delivery of replies by email: queued, retrying (with the last error), sent, failed.
ALTER TABLE messages ADD COLUMN delivery TEXT;
ALTER TABLE messages ADD COLUMN delivery_error TEXT;
