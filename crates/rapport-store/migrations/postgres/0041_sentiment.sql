-- Issue 13: the mood of every customer message, read as it arrives
-- (`rapport_domain::sentiment::read`), in thousandths: -1000 (most negative) to 1000.
-- NULL for the messages of agents, Rapport and the bot, and for messages stored before.
ALTER TABLE messages ADD COLUMN sentiment BIGINT;
