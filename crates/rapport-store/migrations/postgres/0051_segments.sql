-- Segments (issue 14): named sets of customers defined by conditions (JSON, checked by
-- rapport_domain::crm::segment), listed like views and, later, campaign audiences.
CREATE TABLE segments (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    conditions TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
