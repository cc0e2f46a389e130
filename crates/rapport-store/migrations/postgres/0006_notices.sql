-- Automatic mail (acknowledgements, agent notifications, portal sign-in links): every
-- one sent to an address is logged, so automatic mail per address can be rate-limited
-- (loop safety).
CREATE TABLE auto_mail_log (
    id BIGSERIAL PRIMARY KEY,
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX auto_mail_log_address ON auto_mail_log(address, created_at);

-- Per mailbox: acknowledge new tickets with an honest expected answer time.
ALTER TABLE mailboxes ADD COLUMN acknowledge BIGINT NOT NULL DEFAULT 0;

-- Portal sign-in by emailed link: the token is stored hashed and works once.
CREATE TABLE portal_tokens (
    token_hash TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
