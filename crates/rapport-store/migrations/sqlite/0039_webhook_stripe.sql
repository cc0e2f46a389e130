-- Webhooks (issue: routing and SLAs): a receiver may also get a Stripe-style signature
-- header (`rapport-signature: t=<timestamp>,v1=<hex HMAC-SHA256 of "t.body">`), for
-- receivers built that way.
ALTER TABLE webhooks ADD COLUMN stripe_header BOOLEAN NOT NULL DEFAULT FALSE;
