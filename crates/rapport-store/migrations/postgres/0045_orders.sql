-- Orders (issue 14): what a customer bought, pushed by the shop through the API or a CSV
-- import and kept as its latest version. external_id is the shop's id: pushing it again
-- updates the order, never duplicates it. Money is in integer minor units of the
-- order's ISO 4217 currency. Lines and shipments are replaced whole by each push.
CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    shipping BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    placed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, placed_at);

CREATE TABLE order_lines (
    order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);
CREATE INDEX order_lines_sku ON order_lines (sku);

CREATE TABLE shipments (
    order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    status TEXT NOT NULL,
    expected_at BIGINT,
    PRIMARY KEY (order_id, position)
);

-- A ticket about an order: linked by an agent.
CREATE TABLE ticket_orders (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    order_id BIGINT NOT NULL REFERENCES orders(id),
    linked_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, order_id)
);
CREATE INDEX ticket_orders_order ON ticket_orders (order_id);
