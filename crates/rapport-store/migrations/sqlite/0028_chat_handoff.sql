-- The assistant bot inside live chat, and the handoff to a person.
-- 1. A message may be written by the bot ('bot'): public, shown to the visitor and in the
--    ticket's history. SQLite cannot change a CHECK in place: the column is added anew,
--    copied, dropped and renamed back (as in 0009).
ALTER TABLE messages ADD COLUMN author_kind_new TEXT NOT NULL DEFAULT 'system'
    CHECK (author_kind_new IN ('customer', 'agent', 'system', 'bot'));
UPDATE messages SET author_kind_new = author_kind;
ALTER TABLE messages DROP COLUMN author_kind;
ALTER TABLE messages RENAME COLUMN author_kind_new TO author_kind;

-- 2. A chat's bot conversation belongs to its ticket, not to an agent: user_id becomes
--    optional. The turns are rebuilt first so dropping the old table cascades nothing.
CREATE TABLE bot_conversations_new (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    ticket_id INTEGER REFERENCES tickets(id),
    created_at INTEGER NOT NULL,
    active_at INTEGER NOT NULL,
    last_cited_at INTEGER,
    unhelpful INTEGER NOT NULL DEFAULT 0,
    mood TEXT NOT NULL DEFAULT 'calm',
    handed_over BOOLEAN NOT NULL DEFAULT FALSE,
    handed_over_at INTEGER,
    summary TEXT,
    outcome TEXT,
    outcome_at INTEGER
);
INSERT INTO bot_conversations_new SELECT id, user_id, ticket_id, created_at, active_at,
    last_cited_at, unhelpful, mood, handed_over, handed_over_at, summary, outcome, outcome_at
    FROM bot_conversations;
CREATE TABLE bot_turns_new (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES bot_conversations_new(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    confidence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    handoff BOOLEAN NOT NULL,
    reason TEXT,
    reaction TEXT,
    mood TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO bot_turns_new SELECT id, conversation_id, question, answer, sources, confidence,
    kind, handoff, reason, reaction, mood, created_at FROM bot_turns;
DROP TABLE bot_turns;
DROP TABLE bot_conversations;
ALTER TABLE bot_conversations_new RENAME TO bot_conversations;
ALTER TABLE bot_turns_new RENAME TO bot_turns;
CREATE INDEX bot_conversations_user ON bot_conversations(user_id, id);
CREATE INDEX bot_conversations_ticket ON bot_conversations(ticket_id);
CREATE INDEX bot_conversations_cited ON bot_conversations(last_cited_at);
CREATE INDEX bot_turns_conversation ON bot_turns(conversation_id, id);

-- 3. Agents set their chat status (online / away / offline; assignment takes only
--    'online') and have a limit of concurrent chats (assignment never exceeds it).
ALTER TABLE users ADD COLUMN chat_status TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE users ADD COLUMN chat_limit INTEGER NOT NULL DEFAULT 3;

-- 4. The chat side of a handoff: when a person took it over (NULL: the bot has it), the
--    team queue it waits in until an agent is free, and the last transfer's note.
ALTER TABLE chat_conversations ADD COLUMN handed_over_at INTEGER;
ALTER TABLE chat_conversations ADD COLUMN waiting BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE chat_conversations ADD COLUMN transfer_note TEXT;
CREATE INDEX chat_conversations_waiting ON chat_conversations(waiting, handed_over_at);

-- 5. The chat message that carried a bot turn's answer (its sources go with the frame).
ALTER TABLE bot_turns ADD COLUMN message_id INTEGER REFERENCES messages(id);
CREATE INDEX bot_turns_message ON bot_turns(message_id);
