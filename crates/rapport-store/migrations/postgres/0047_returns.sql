-- Returns and exchanges (issue 14): a request for some of an order's items, moved through
-- the RMA state machine (rapport_domain::commerce::returns); every step kept with its time,
-- who made it and their note, for the agent, the customer's portal and their emails.
CREATE TABLE returns (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    ticket_id BIGINT REFERENCES tickets(id),
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    currency TEXT NOT NULL,
    refund_amount BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX returns_order ON returns (order_id);
CREATE INDEX returns_customer ON returns (customer_id, created_at);

CREATE TABLE return_lines (
    return_id BIGINT NOT NULL REFERENCES returns(id),
    position BIGINT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (return_id, position)
);
CREATE INDEX return_lines_sku ON return_lines (sku);

CREATE TABLE return_steps (
    id BIGSERIAL PRIMARY KEY,
    return_id BIGINT NOT NULL REFERENCES returns(id),
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    note TEXT,
    user_id BIGINT REFERENCES users(id),
    customer_id BIGINT REFERENCES customers(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX return_steps_return ON return_steps (return_id, id);
