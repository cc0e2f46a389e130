-- The reports' roll-ups (issue 13): what every ticket and ticketless survey contributes
-- to each day's figures (report_facts, encoded by the store), summed into cells by day
-- and by each combination of channel, category, team and agent ('*' or -1: any; '' or 0:
-- none). A subscriber keeps them from the event stream; writes that record no ticket
-- event mark their subject in report_dirty. report_rollup says whether the cells cover
-- everything yet (until then the reports aggregate afresh) and how far a rebuild went.
CREATE TABLE report_cells (
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    team_id BIGINT NOT NULL,
    agent_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    m BLOB NOT NULL,
    PRIMARY KEY (channel, category, team_id, agent_id, day)
);
CREATE TABLE report_facts (
    subject TEXT PRIMARY KEY,
    facts BLOB NOT NULL
);
CREATE TABLE report_dirty (
    subject TEXT PRIMARY KEY
);
CREATE TABLE report_rollup (
    id BIGINT PRIMARY KEY,
    built BOOLEAN NOT NULL,
    ticket_after BIGINT NOT NULL,
    survey_after BIGINT NOT NULL
);
INSERT INTO report_rollup (id, built, ticket_after, survey_after) VALUES (1, FALSE, 0, 0);

-- The backlog (unsolved tickets now, by age) under any filter, read from the index alone:
-- only unsolved tickets are in it.
CREATE INDEX tickets_backlog ON tickets (created_at, team_id, assignee_id, channel, category)
    WHERE status IN ('new', 'open', 'pending', 'on-hold');
