-- Billing (issue 14): invoices and payments the shop pushes (idempotent by its id), and
-- refunds agents record for the shop to honour (within their goodwill limit, or after a
-- supervisor's approval). Amounts are minor units of the record's ISO 4217 currency.
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    order_id BIGINT REFERENCES orders(id),
    number TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    due_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX invoices_customer ON invoices (customer_id, issued_at);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    order_id BIGINT REFERENCES orders(id),
    invoice_id BIGINT REFERENCES invoices(id),
    method TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    paid_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX payments_customer ON payments (customer_id, paid_at);

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    order_id BIGINT NOT NULL REFERENCES orders(id),
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets(id),
    issued_by BIGINT REFERENCES users(id),
    approval_id BIGINT REFERENCES approvals(id),
    state TEXT NOT NULL,
    reference TEXT,
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX refunds_customer ON refunds (customer_id, created_at);
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_state ON refunds (state, id);
