-- Routing (issue: routing and SLAs): how each team hands out new tickets, each agent's
-- capacity of open tickets and skills, and the handoff notes of transfers.
-- teams.routing: manual | round_robin | least_loaded; last_routed_user_id: the agent who
-- got the team's last routed ticket (round-robin goes on after them).
ALTER TABLE teams ADD COLUMN routing TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE teams ADD COLUMN last_routed_user_id BIGINT;
-- users.ticket_limit: routing never gives an agent more open tickets than this;
-- skill_*: JSON arrays of category slugs and language codes ('[]': any);
-- last_routed_at: when routing last gave them a ticket (least-loaded's tie-break).
ALTER TABLE users ADD COLUMN ticket_limit INTEGER NOT NULL DEFAULT 20;
ALTER TABLE users ADD COLUMN skill_categories TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN skill_languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN last_routed_at BIGINT NOT NULL DEFAULT 0;

-- Every transfer of a ticket to another agent or team, with its note to the new owner.
CREATE TABLE transfers (
    id BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    by_user_id BIGINT NOT NULL REFERENCES users(id),
    from_team_id BIGINT,
    to_team_id BIGINT,
    from_assignee_id BIGINT,
    to_assignee_id BIGINT,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX transfers_ticket ON transfers (ticket_id, id);

-- Open tickets nobody owns, per team: what the routing pass looks through.
CREATE INDEX tickets_unassigned ON tickets (team_id, id)
    WHERE assignee_id IS NULL AND status NOT IN ('solved', 'closed');

-- Agents who handed a ticket back to the queue: routing gives it to someone else.
CREATE TABLE routing_declined (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (ticket_id, user_id)
);
