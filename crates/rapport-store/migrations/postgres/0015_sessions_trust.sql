-- Browser sessions slide: when a session was last used (NULL: since it was made), and
-- when its agent last gave the password again (admin actions ask for it).
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN reauth_at BIGINT;

-- Portal sessions live on the server, so that signing out ends them.
CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_customer ON portal_sessions(customer_id);

-- A request's private links are signed with the ticket's link generation; revoking the
-- links bumps it.
ALTER TABLE tickets ADD COLUMN portal_link_gen BIGINT NOT NULL DEFAULT 0;

-- The customer whose conversation a message belongs to, stamped when a merge moves it to
-- another ticket; NULL: the customer of the ticket it is on.
ALTER TABLE messages ADD COLUMN recipient_customer_id BIGINT REFERENCES customers(id);

-- The portal's signing key is derived from the server's secret key now, never stored.
DELETE FROM settings WHERE key = 'portal_link_key';
