-- Typing preview: what the visitor has typed but not sent yet, kept only while the admin
-- turned the preview on (and cleared when the message is sent). Agents' ticket pages on
-- every node read it next to `visitor_typing_at`.
ALTER TABLE chat_conversations ADD COLUMN visitor_draft TEXT;
