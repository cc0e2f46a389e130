-- Snoozed tickets (issue: routing and SLAs — follow-ups): until a time, until the
-- customer replies, or both; one snooze per ticket. until_at is indexed so the minute
-- pass reads only what is due.
CREATE TABLE snoozes (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    until_at BIGINT,
    until_reply BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX snoozes_due ON snoozes (until_at) WHERE until_at IS NOT NULL;
