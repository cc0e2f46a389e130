-- Booleans are declared BOOLEAN on both backends (SQLite still stores 0 and 1), so the
-- schema-parity test can tell a boolean from a number. SQLite cannot change a column's
-- declared type in place: each column is added anew, copied, dropped and renamed back.
-- (Columns move to the end of their table; nothing reads columns by position.)
ALTER TABLE users ADD COLUMN active_new BOOLEAN NOT NULL DEFAULT 1;
UPDATE users SET active_new = active;
ALTER TABLE users DROP COLUMN active;
ALTER TABLE users RENAME COLUMN active_new TO active;

ALTER TABLE users ADD COLUMN email_notifications_new BOOLEAN NOT NULL DEFAULT 1;
UPDATE users SET email_notifications_new = email_notifications;
ALTER TABLE users DROP COLUMN email_notifications;
ALTER TABLE users RENAME COLUMN email_notifications_new TO email_notifications;

ALTER TABLE categories ADD COLUMN built_in_new BOOLEAN NOT NULL DEFAULT 0;
UPDATE categories SET built_in_new = built_in;
ALTER TABLE categories DROP COLUMN built_in;
ALTER TABLE categories RENAME COLUMN built_in_new TO built_in;

ALTER TABLE messages ADD COLUMN internal_new BOOLEAN NOT NULL DEFAULT 0;
UPDATE messages SET internal_new = internal;
ALTER TABLE messages DROP COLUMN internal;
ALTER TABLE messages RENAME COLUMN internal_new TO internal;

ALTER TABLE presence ADD COLUMN typing_new BOOLEAN NOT NULL DEFAULT 0;
UPDATE presence SET typing_new = typing;
ALTER TABLE presence DROP COLUMN typing;
ALTER TABLE presence RENAME COLUMN typing_new TO typing;

ALTER TABLE mailboxes ADD COLUMN imap_tls_new BOOLEAN NOT NULL DEFAULT 1;
UPDATE mailboxes SET imap_tls_new = imap_tls;
ALTER TABLE mailboxes DROP COLUMN imap_tls;
ALTER TABLE mailboxes RENAME COLUMN imap_tls_new TO imap_tls;

ALTER TABLE mailboxes ADD COLUMN acknowledge_new BOOLEAN NOT NULL DEFAULT 0;
UPDATE mailboxes SET acknowledge_new = acknowledge;
ALTER TABLE mailboxes DROP COLUMN acknowledge;
ALTER TABLE mailboxes RENAME COLUMN acknowledge_new TO acknowledge;
