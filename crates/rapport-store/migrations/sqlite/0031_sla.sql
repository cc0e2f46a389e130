-- Service-level agreements (issue: routing and SLAs). Ids are never reused (AUTOINCREMENT):
-- a ticket's clocks name their policy by id.
-- Business-hours calendars: weekly hours (JSON: {"mon": ["09:00-12:00", "13:00-17:00"], …}),
-- holidays (JSON list of local dates) and one-off closures (JSON list of {from, until}
-- in microseconds), read in an IANA time zone.
CREATE TABLE calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    hours TEXT NOT NULL,
    holidays TEXT NOT NULL DEFAULT '[]',
    closures TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Policies, tried by position: the first enabled one whose conditions (JSON) hold applies.
-- Targets in minutes (NULL: not measured), in the calendar's business hours or, without
-- one, in calendar hours.
CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    conditions TEXT NOT NULL DEFAULT '{}',
    first_response_minutes BIGINT,
    next_response_minutes BIGINT,
    resolution_minutes BIGINT,
    calendar_id BIGINT REFERENCES calendars(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The default: a first response within 24 hours, for every ticket.
INSERT INTO sla_policies (name, position, enabled, first_response_minutes, created_at, updated_at)
VALUES ('Default', 1000, TRUE, 1440, 0, 0);

-- Each ticket's clocks (JSON of the domain's TicketSla), kept by the `sla` subscriber of
-- the event stream. next_due_at is the soonest running due time: views sort by it, and
-- its index lets a pass find what is due without reading every open ticket.
CREATE TABLE ticket_sla (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    policy_id BIGINT NOT NULL,
    clocks TEXT NOT NULL,
    next_due_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ticket_sla_due ON ticket_sla (next_due_at) WHERE next_due_at IS NOT NULL;

-- The same soonest due time on the ticket (the end of time when no clock runs), so a view
-- sorted by it reads one index range per status, like every other sort.
ALTER TABLE tickets ADD COLUMN sla_due_at BIGINT NOT NULL DEFAULT 9223372036854775807;
CREATE INDEX tickets_status_sla ON tickets (status, sla_due_at, id);
