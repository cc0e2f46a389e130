-- The roll-ups' cells are stored by grain (a bit for each dimension a cell fixes: 1
-- channel, 2 category, 4 team, 8 agent) and day first, so a read of a period scans only
-- the cells of the one grain it sums. The cells and facts are rebuilt at the next start.
DROP TABLE report_cells;
CREATE TABLE report_cells (
    grain BIGINT NOT NULL,
    day BIGINT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    team_id BIGINT NOT NULL,
    agent_id BIGINT NOT NULL,
    m BYTEA NOT NULL,
    PRIMARY KEY (grain, day, channel, category, team_id, agent_id)
);
DELETE FROM report_facts;
UPDATE report_rollup SET built = FALSE, ticket_after = 0, survey_after = 0;
