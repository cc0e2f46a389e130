-- Typing preview: what the visitor has typed but not sent yet, kept only while the admin
-- turned the preview on (and cleared when the message is sent). Agents' ticket pages on
-- every node read it next to `visitor_typing_at`.
ALTER TABLE chat_conversations ADD COLUMN visitor_draft TEXT;

-- The site user a conversation was started as (a verified identity), so that user's
-- earlier conversations are exactly the ones started with a valid signature for them —
-- never those of whatever customer an unverified address points at.
ALTER TABLE chat_conversations ADD COLUMN external_id TEXT;
CREATE INDEX chat_conversations_external ON chat_conversations(external_id, ticket_id);
