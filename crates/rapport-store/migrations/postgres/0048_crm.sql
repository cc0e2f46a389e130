-- Customers and organisations (issue 14): birthdays and tiers; the other addresses a
-- customer kept when a duplicate was merged into them; typed custom attributes; erasure.
ALTER TABLE customers ADD COLUMN birthday TEXT;
ALTER TABLE customers ADD COLUMN tier TEXT;
ALTER TABLE customers ADD COLUMN erased_at BIGINT;
ALTER TABLE organizations ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX customers_organization ON customers (organization_id);

-- Every address but the main one (customers.email) that finds this customer.
CREATE TABLE customer_emails (
    email TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_emails_customer ON customer_emails (customer_id);

-- The custom attributes customers and organisations may carry, each with its type.
CREATE TABLE attribute_defs (
    id BIGSERIAL PRIMARY KEY,
    target TEXT NOT NULL CHECK (target IN ('customer', 'organization')),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'choice')),
    choices TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    UNIQUE (target, key)
);
