-- Booleans are BOOLEAN on both backends: 0005, 0006 and 0008 added three as BIGINT.
-- (The store binds integers to boolean parameters as booleans, so code written either
-- way keeps working.)
ALTER TABLE mailboxes ALTER COLUMN imap_tls DROP DEFAULT;
ALTER TABLE mailboxes ALTER COLUMN imap_tls TYPE BOOLEAN USING imap_tls <> 0;
ALTER TABLE mailboxes ALTER COLUMN imap_tls SET DEFAULT TRUE;

ALTER TABLE mailboxes ALTER COLUMN acknowledge DROP DEFAULT;
ALTER TABLE mailboxes ALTER COLUMN acknowledge TYPE BOOLEAN USING acknowledge <> 0;
ALTER TABLE mailboxes ALTER COLUMN acknowledge SET DEFAULT FALSE;

ALTER TABLE users ALTER COLUMN email_notifications DROP DEFAULT;
ALTER TABLE users ALTER COLUMN email_notifications TYPE BOOLEAN USING email_notifications <> 0;
ALTER TABLE users ALTER COLUMN email_notifications SET DEFAULT TRUE;
