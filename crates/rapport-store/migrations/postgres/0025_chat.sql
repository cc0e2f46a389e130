-- Live chat. A conversation is a ticket of channel `chat`; the visitor's browser holds a
-- random token bound to it, kept here only as its SHA-256. `email` is an address the
-- visitor typed (unverified, like an email's From), for a transcript or to go on by email.
CREATE TABLE chat_conversations (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    token_hash TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    anonymous BOOLEAN NOT NULL,
    email TEXT,
    by_email BOOLEAN NOT NULL DEFAULT FALSE,
    visitor_read_up_to BIGINT NOT NULL DEFAULT 0,
    visitor_typing_at BIGINT,
    agent_read_up_to BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX chat_conversations_token ON chat_conversations(token_hash);

-- What a visitor sent, by the id their browser gave it: a message sent again after a
-- reconnect is stored once. `message_id` is NULL only inside the storing transaction.
CREATE TABLE chat_sent (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    client_id TEXT NOT NULL,
    message_id BIGINT REFERENCES messages(id),
    PRIMARY KEY (ticket_id, client_id)
);

-- A site's signed-in user (the id the site signs) and the customer their chats belong to.
CREATE TABLE chat_identities (
    external_id TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    created_at BIGINT NOT NULL
);
