-- The assistant bot's conversations and their turns. A conversation belongs to the agent
-- (or integration token's agent) that asked through POST /api/v1/bot/ask; a channel that
-- turns it into a ticket (live chat) sets ticket_id. last_cited_at is set while the bot's
-- last turn is a cited answer nobody has replied to: a conversation quiet for 30 minutes
-- after it is settled as outcome 'left_after_answer'; a customer's "yes" sets 'confirmed'.
-- Confidence is stored in thousandths (0-1000).
CREATE TABLE bot_conversations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    ticket_id BIGINT REFERENCES tickets(id),
    created_at BIGINT NOT NULL,
    active_at BIGINT NOT NULL,
    last_cited_at BIGINT,
    unhelpful BIGINT NOT NULL DEFAULT 0,
    mood TEXT NOT NULL DEFAULT 'calm',
    handed_over BOOLEAN NOT NULL DEFAULT FALSE,
    handed_over_at BIGINT,
    summary TEXT,
    outcome TEXT,
    outcome_at BIGINT
);
CREATE INDEX bot_conversations_user ON bot_conversations(user_id, id);
CREATE INDEX bot_conversations_ticket ON bot_conversations(ticket_id);
CREATE INDEX bot_conversations_cited ON bot_conversations(last_cited_at);

CREATE TABLE bot_turns (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES bot_conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    confidence BIGINT NOT NULL,
    kind TEXT NOT NULL,
    handoff BOOLEAN NOT NULL,
    reason TEXT,
    reaction TEXT,
    mood TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX bot_turns_conversation ON bot_turns(conversation_id, id);
