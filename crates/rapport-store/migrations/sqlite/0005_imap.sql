-- IMAP polling of existing mailboxes. The position (UIDVALIDITY and the last UID taken)
-- moves in the same transaction that stores a message, so a crash between fetch and
-- commit neither loses nor doubles one. The password is sealed (encrypted) by the
-- application with a key that is not in the database.
ALTER TABLE mailboxes ADD COLUMN imap_host TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_port INTEGER;
ALTER TABLE mailboxes ADD COLUMN imap_tls INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mailboxes ADD COLUMN imap_user TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_password TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_folder TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_move_to TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_stall_secs INTEGER NOT NULL DEFAULT 900;
ALTER TABLE mailboxes ADD COLUMN imap_uidvalidity INTEGER;
ALTER TABLE mailboxes ADD COLUMN imap_last_uid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN imap_since INTEGER;
ALTER TABLE mailboxes ADD COLUMN imap_last_fetch_at INTEGER;
ALTER TABLE mailboxes ADD COLUMN imap_last_error TEXT;

-- Messages fetching set aside (too large, or the server would not hand them over):
-- visible to admins, never blocking the rest.
CREATE TABLE mail_set_aside (
    id INTEGER PRIMARY KEY,
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    size INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_set_aside_mailbox ON mail_set_aside(mailbox_id);
