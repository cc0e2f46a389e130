-- Outbound webhooks (issue: routing and SLAs, automations and webhooks). A webhook gets the
-- events it subscribes to (JSON list of names such as "ticket.created"), signed the
-- Standard Webhooks way with its secret (sealed with the server key; during a rotation the
-- previous secret signs too, until previous_until). A webhook that answers 410 or keeps
-- failing is disabled, with the reason.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every delivery attempt, with the receiver's answer (status and the start of its body).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    msg_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    status_code BIGINT,
    response TEXT NOT NULL DEFAULT '',
    error TEXT,
    duration_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
