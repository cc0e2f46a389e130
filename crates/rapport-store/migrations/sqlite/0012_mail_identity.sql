-- Email identity: the Message-IDs Rapport sent, kept apart from the ones inbound mail
-- claims (a sent ID always threads to the ticket it was sent from, and only a sent ID
-- makes a delivery report count); the address every email message really came from;
-- the overall hourly count of automatic mail.
CREATE TABLE mail_sent (
    message_id TEXT PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    reply_id INTEGER REFERENCES messages(id),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX mail_sent_reply ON mail_sent(reply_id);
CREATE INDEX mail_sent_ticket ON mail_sent(ticket_id);

-- The IDs sent before this version were predictable (rapport.<ticket>.<message>@…):
-- those that name the ticket they thread to are Rapport's own and move over; any other
-- claim in Rapport's namespace was squatted and goes.
INSERT INTO mail_sent (message_id, ticket_id, created_at)
    SELECT lower(message_id), ticket_id, created_at FROM mail_threads
    WHERE message_id LIKE 'rapport.' || ticket_id || '.%'
       OR message_id LIKE 'rapport.ack.' || ticket_id || '@%';
DELETE FROM mail_threads WHERE lower(message_id) LIKE 'rapport.%';

ALTER TABLE messages ADD COLUMN from_address TEXT;

CREATE INDEX auto_mail_log_created ON auto_mail_log(created_at);
