-- Knowledge-base search: a synonym group is stored once (its members normalised and
-- joined by ", "), the search log is grouped by what was asked, and a fresh install starts
-- with a few groups every help desk needs (created_by NULL, created_at 0: built in; an
-- admin may delete them).

CREATE UNIQUE INDEX kb_synonyms_terms ON kb_synonyms(terms);
CREATE INDEX kb_searches_normalized ON kb_searches(normalized, created_at);

INSERT INTO kb_synonyms (terms, created_by, created_at) VALUES
    ('bill, invoice, receipt', NULL, 0),
    ('money back, refund, reimbursement', NULL, 0),
    ('login credentials, passcode, password', NULL, 0),
    ('log in, login, sign in', NULL, 0),
    ('package, parcel, shipment', NULL, 0),
    ('cancel, terminate', NULL, 0),
    ('close account, delete account, remove account', NULL, 0),
    ('2fa, two-factor, two-step verification', NULL, 0);
