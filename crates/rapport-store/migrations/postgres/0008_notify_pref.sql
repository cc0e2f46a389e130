-- Agents may turn off notification emails (assigned to you, the customer replied).
ALTER TABLE users ADD COLUMN email_notifications BIGINT NOT NULL DEFAULT 1;
