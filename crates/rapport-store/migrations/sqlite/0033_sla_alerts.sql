-- SLA warnings and breaches, announced once each (issue: routing and SLAs). For each
-- ticket: when its soonest running target should be warned about (an hour before it is
-- due) and when it breaches, until announced; and which due time was announced, so a
-- clock that starts again (a new due time) is announced again. The pass reads only the
-- rows these indexes say are due: no scan of open tickets.
ALTER TABLE ticket_sla ADD COLUMN warn_at BIGINT;
ALTER TABLE ticket_sla ADD COLUMN breach_at BIGINT;
ALTER TABLE ticket_sla ADD COLUMN warned_due_at BIGINT;
ALTER TABLE ticket_sla ADD COLUMN breached_due_at BIGINT;
CREATE INDEX ticket_sla_warn ON ticket_sla (warn_at) WHERE warn_at IS NOT NULL;
CREATE INDEX ticket_sla_breach ON ticket_sla (breach_at) WHERE breach_at IS NOT NULL;
