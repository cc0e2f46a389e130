-- Knowledge-base search: a synonym group is stored once (its members normalised and
-- joined by ", "), the search log is grouped by what was asked, and a fresh install starts
-- with a few groups every help desk needs (created_by NULL, created_at 0: built in; an
-- admin may delete them).

CREATE UNIQUE INDEX kb_synonyms_terms ON kb_synonyms(terms);
CREATE INDEX kb_searches_normalized ON kb_searches(normalized, created_at);

INSERT INTO kb_synonyms (terms, created_by, created_at) VALUES
    ('invoice, bill, receipt', NULL, 0),
    ('refund, money back, reimbursement', NULL, 0),
    ('password, login credentials, passcode', NULL, 0),
    ('sign in, log in, login', NULL, 0),
    ('package, parcel, shipment', NULL, 0),
    ('cancel, terminate, end subscription', NULL, 0),
    ('delete account, close account, remove account', NULL, 0),
    ('two-factor, 2fa, two-step verification', NULL, 0);
