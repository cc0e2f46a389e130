-- IMAP polling of existing mailboxes. The position (UIDVALIDITY and the last UID taken)
-- moves in the same transaction that stores a message, so a crash between fetch and
-- commit neither loses nor doubles one. The password is sealed (encrypted) by the
-- application with a key that is not in the database.
ALTER TABLE mailboxes ADD COLUMN imap_host TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_port BIGINT;
ALTER TABLE mailboxes ADD COLUMN imap_tls BIGINT NOT NULL DEFAULT 1;
ALTER TABLE mailboxes ADD COLUMN imap_user TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_password TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_folder TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_move_to TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_stall_secs BIGINT NOT NULL DEFAULT 900;
ALTER TABLE mailboxes ADD COLUMN imap_uidvalidity BIGINT;
ALTER TABLE mailboxes ADD COLUMN imap_last_uid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN imap_since BIGINT;
ALTER TABLE mailboxes ADD COLUMN imap_last_fetch_at BIGINT;
ALTER TABLE mailboxes ADD COLUMN imap_last_error TEXT;

-- Messages fetching set aside (too large, or the server would not hand them over):
-- visible to admins, never blocking the rest.
CREATE TABLE mail_set_aside (
    id BIGSERIAL PRIMARY KEY,
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id),
    uidvalidity BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    size BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_set_aside_mailbox ON mail_set_aside(mailbox_id);
