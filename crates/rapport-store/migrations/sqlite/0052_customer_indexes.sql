-- Merging and erasing a customer (issue 14) find every row that points at them: indexes
-- on the customer columns of the tables that had none. The large tables (messages'
-- authors and recipients, events' actors) stay without: a second index on every message
-- and event would slow each write for an operation an admin runs now and then.
CREATE INDEX chat_conversations_customer ON chat_conversations (customer_id);
CREATE INDEX chat_identities_customer ON chat_identities (customer_id);
CREATE INDEX kb_feedback_customer ON kb_feedback (customer_id);
CREATE INDEX kb_deflections_customer ON kb_deflections (customer_id);
CREATE INDEX portal_tokens_customer ON portal_tokens (customer_id);
CREATE INDEX approvals_customer ON approvals (customer_id);
CREATE INDEX goodwill_customer ON goodwill (customer_id);
CREATE INDEX return_steps_customer ON return_steps (customer_id);
CREATE INDEX community_topics_author ON community_topics (author_customer_id);
CREATE INDEX community_votes_customer ON community_votes (customer_id);
