-- The assistant bot inside live chat, and the handoff to a person (see the SQLite file).
ALTER TABLE messages DROP CONSTRAINT messages_author_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_author_kind_check
    CHECK (author_kind IN ('customer', 'agent', 'system', 'bot'));

ALTER TABLE bot_conversations ALTER COLUMN user_id DROP NOT NULL;

ALTER TABLE users ADD COLUMN chat_status TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE users ADD COLUMN chat_limit BIGINT NOT NULL DEFAULT 3;

ALTER TABLE chat_conversations ADD COLUMN handed_over_at BIGINT;
ALTER TABLE chat_conversations ADD COLUMN waiting BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE chat_conversations ADD COLUMN transfer_note TEXT;
CREATE INDEX chat_conversations_waiting ON chat_conversations(waiting, handed_over_at);

-- 5. The chat message that carried a bot turn's answer (its sources go with the frame).
ALTER TABLE bot_turns ADD COLUMN message_id BIGINT REFERENCES messages(id);
CREATE INDEX bot_turns_message ON bot_turns(message_id);
