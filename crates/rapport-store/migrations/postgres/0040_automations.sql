-- Automations (issue: routing and SLAs — automations): event rules and time rules, each
-- with its conditions and actions as checked JSON. A time rule keeps a watermark (the
-- mark time and ticket id it has gone through), so each pass reads only the tickets that
-- crossed its mark since the last one, by index. Every run is logged (automation_runs)
-- and shown on the ticket. tickets.status_since is when the status last changed
-- (hours_in_status); customers.check_ins is off for a customer who asked for no
-- check-in messages.
CREATE TABLE automations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    kind TEXT NOT NULL,
    events TEXT NOT NULL,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    mark_field TEXT,
    mark_hours BIGINT,
    watermark_at BIGINT NOT NULL DEFAULT 0,
    watermark_id BIGINT NOT NULL DEFAULT 0,
    runs BIGINT NOT NULL DEFAULT 0,
    last_run_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE automation_runs (
    id BIGSERIAL PRIMARY KEY,
    rule_id BIGINT NOT NULL,
    rule_name TEXT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    event_id BIGINT,
    ok BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX automation_runs_rule ON automation_runs (rule_id, ticket_id, created_at);
CREATE INDEX automation_runs_ticket ON automation_runs (ticket_id, id);

ALTER TABLE tickets ADD COLUMN status_since BIGINT;
UPDATE tickets SET status_since = updated_at;
CREATE INDEX tickets_status_since ON tickets (status_since, id);
CREATE INDEX tickets_solved ON tickets (solved_at, id) WHERE solved_at IS NOT NULL;

ALTER TABLE customers ADD COLUMN check_ins BOOLEAN NOT NULL DEFAULT TRUE;

-- The check-in after a solved ticket ships switched on: three days after solving (and
-- not for tickets solved over two weeks ago), by email or in the portal, unless the
-- customer asked for none. Its watermark starts at the latest ticket solved before the
-- upgrade: an existing help desk's past tickets get no burst of check-ins.
INSERT INTO automations (name, enabled, kind, events, conditions, actions, mark_field,
                         mark_hours, watermark_at, created_at, updated_at)
VALUES ('Check in after a ticket is solved', TRUE, 'time', '[]',
        '[{"field":"status","op":"is","value":"solved"},{"field":"hours_since_solved","op":"at_least","value":72},{"field":"hours_since_solved","op":"at_most","value":336},{"field":"customer_check_ins","op":"is","value":"on"},{"field":"channel","op":"in","value":["email","web"]}]',
        '[{"type":"reply","text":"Hi {{customer.name}},\n\nA few days ago we solved your request \"{{ticket.subject}}\" (#{{ticket.number}}). Is everything working as it should? If anything is still not right, just reply to this message and we will pick it up again.\n\n{{agent.name}}"}]',
        'hours_since_solved', 72, COALESCE((SELECT MAX(solved_at) FROM tickets), 0), 0, 0);

-- Warnings before an SLA breach and the breach itself reach people through two shipped
-- event rules (a supervisor can change or switch them off).
INSERT INTO automations (name, enabled, kind, events, conditions, actions, created_at,
                         updated_at)
VALUES ('Warn the owner before an SLA breach', TRUE, 'event', '["sla.warning"]',
        '[{"field":"assignee_id","op":"set"}]',
        '[{"type":"notify","to":["assignee"],"text":"an SLA target is due within the hour."}]',
        0, 0),
       ('Tell the owner and supervisors about an SLA breach', TRUE, 'event', '["sla.breached"]',
        '[]',
        '[{"type":"notify","to":["assignee","supervisors"],"text":"an SLA target was breached."}]',
        0, 0);
