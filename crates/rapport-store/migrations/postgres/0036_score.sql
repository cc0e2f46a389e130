-- The priority score (issue: routing and SLAs): its standing part — from the customer's
-- words, mood and tier and the ticket's priority — kept with the ticket so queues can be
-- ordered by it; the signals it came from (JSON) explain it.
ALTER TABLE tickets ADD COLUMN score_standing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN score_signals TEXT NOT NULL DEFAULT '{}';
