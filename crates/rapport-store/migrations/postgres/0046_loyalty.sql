-- Loyalty and goodwill (issue 14). Rapport moves no money: vouchers, points and refunds
-- are records the shop honours.
--
-- Vouchers: a unique code worth an amount (minor units of a currency) or a percentage,
-- used once (redeemed_at), until expires_at.
CREATE TABLE vouchers (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    currency TEXT,
    amount BIGINT,
    percent BIGINT,
    reason TEXT NOT NULL,
    expires_at BIGINT,
    ticket_id BIGINT REFERENCES tickets(id),
    issued_by BIGINT REFERENCES users(id),
    approval_id BIGINT,
    redeemed_at BIGINT,
    redeemed_ref TEXT,
    created_at BIGINT NOT NULL,
    CHECK ((amount IS NULL) <> (percent IS NULL))
);
CREATE INDEX vouchers_customer ON vouchers (customer_id, created_at);

-- Reward points: an append-only ledger; the balance row is moved by one conditional
-- update, so it never goes below zero whatever runs at once.
CREATE TABLE points_ledger (
    id BIGSERIAL PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    delta BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    order_id BIGINT REFERENCES orders(id),
    ticket_id BIGINT REFERENCES tickets(id),
    user_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX points_ledger_customer ON points_ledger (customer_id, id);
CREATE TABLE points_balances (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    balance BIGINT NOT NULL CHECK (balance >= 0)
);

-- Goodwill limits per role ('role:agent') or agent ('user:12'), per kind and currency
-- ('' for points and percentages), over a calendar month per customer.
CREATE TABLE goodwill_limits (
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    max_per_month BIGINT NOT NULL,
    PRIMARY KEY (scope, kind, currency)
);

-- Every gift given (at once or once approved): what the limits sum and the goodwill
-- report counts.
CREATE TABLE goodwill (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    approved_by BIGINT REFERENCES users(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    ticket_id BIGINT REFERENCES tickets(id),
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX goodwill_limit ON goodwill (user_id, customer_id, kind, created_at);
CREATE INDEX goodwill_created ON goodwill (created_at);

-- Gifts above the giver's limit wait here for a supervisor: the request as given, and
-- once approved what it made.
CREATE TABLE approvals (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    ticket_id BIGINT REFERENCES tickets(id),
    requested_by BIGINT NOT NULL REFERENCES users(id),
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    note TEXT,
    result TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX approvals_state ON approvals (state, created_at);
