-- API tokens can expire, and each shows a short public prefix (the first characters of the
-- token, which carry no secret worth having) so people can tell them apart and revoke one.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN prefix TEXT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
