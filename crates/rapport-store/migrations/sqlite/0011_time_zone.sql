-- Agents read times in their own zone: an IANA name, UTC until they choose one.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
