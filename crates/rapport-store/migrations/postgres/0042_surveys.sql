-- Surveys (issue 13): one per solved ticket (CSAT, then CES, with a comment) and NPS on a
-- schedule. Each is linked to the ticket, the agent and team who had it, and the
-- customer. The links in a survey email are signed with a key derived from the server's
-- (no token is stored); a rating is recorded only by a POST from the survey's page, never
-- by the GET a mail scanner makes. customers.surveys_opt_out holds everywhere.
CREATE TABLE surveys (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    agent_id BIGINT,
    team_id BIGINT,
    channel TEXT NOT NULL,
    lang TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    csat BIGINT,
    ces BIGINT,
    nps BIGINT,
    comment TEXT,
    comment_sentiment BIGINT,
    answered_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX surveys_one_per_ticket ON surveys (ticket_id) WHERE kind = 'ticket';
CREATE INDEX surveys_customer ON surveys (customer_id, kind, sent_at);
CREATE INDEX surveys_sent ON surveys (sent_at);

ALTER TABLE customers ADD COLUMN surveys_opt_out BOOLEAN NOT NULL DEFAULT FALSE;

-- A low rating or a detractor's answer reaches a supervisor through a shipped event rule
-- (a supervisor can change it or switch it off): the comment as a note on the ticket, a
-- tag, and an email to the supervisors (without the comment: a stranger's words do not
-- go out in mail from the help desk).
INSERT INTO automations (name, enabled, kind, events, conditions, actions, created_at,
                         updated_at)
VALUES ('Follow up a low CSAT', TRUE, 'event', '["survey.answered"]',
        '[{"field":"survey_csat","op":"at_most","value":2}]',
        '[{"type":"add_tags","tags":["low-csat"]},{"type":"note","text":"The customer rated this CSAT {{survey.csat}} of 5 (CES {{survey.ces}} of 7). Their comment: {{survey.comment}}\n\nA supervisor follows up."},{"type":"notify","to":["supervisors"],"text":"the customer rated ticket #{{ticket.number}} CSAT {{survey.csat}} of 5. Their comment is in a note on the ticket."}]',
        0, 0),
       ('Follow up an NPS detractor', TRUE, 'event', '["survey.answered"]',
        '[{"field":"survey_nps","op":"at_most","value":6}]',
        '[{"type":"note","text":"A detractor: NPS {{survey.nps}} of 10. Their comment: {{survey.comment}}\n\nA supervisor follows up."},{"type":"notify","to":["supervisors"],"text":"a customer answered NPS {{survey.nps}} of 10 (ticket #{{ticket.number}}). Their comment is in a note on the ticket."}]',
        0, 0);
