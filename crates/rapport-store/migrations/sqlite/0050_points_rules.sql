-- Reward points earned on orders and points that expire (issue 14): the shop's earn rule
-- and expiry in one settings row; each credit keeps when it expires, and whether the
-- expiry sweep has counted it.
ALTER TABLE points_ledger ADD COLUMN expires_at BIGINT;
ALTER TABLE points_ledger ADD COLUMN swept BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX points_ledger_expiry ON points_ledger (expires_at) WHERE expires_at IS NOT NULL AND swept = 0;
CREATE INDEX points_ledger_order ON points_ledger (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE loyalty_settings (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    earn_per_unit BIGINT NOT NULL DEFAULT 0,
    expiry_days BIGINT,
    updated_at BIGINT NOT NULL
);
