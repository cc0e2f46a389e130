-- Deflection, measured: each visit of the portal's new-request form that was shown
-- article suggestions is an attempt (its form carries a random id; only its SHA-256 is
-- kept). What was shown and opened is recorded per article; a ticket submitted from the
-- form closes the attempt (and its articles are what the agent sees "the customer read").
-- An attempt's outcome is computed when a report reads it: submitted; deflected (opened an
-- article and no ticket 30 minutes after the last activity); abandoned (shown, nothing
-- opened, no ticket); pending (still within the 30 minutes).
CREATE TABLE kb_deflections (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    visitor TEXT,
    customer_id INTEGER REFERENCES customers(id),
    ticket_id INTEGER REFERENCES tickets(id),
    shown_at INTEGER NOT NULL,
    opened_at INTEGER,
    active_at INTEGER NOT NULL,
    submitted_at INTEGER
);
CREATE INDEX kb_deflections_shown ON kb_deflections(shown_at);
CREATE INDEX kb_deflections_ticket ON kb_deflections(ticket_id);

CREATE TABLE kb_deflection_articles (
    deflection_id INTEGER NOT NULL REFERENCES kb_deflections(id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    shown_at INTEGER NOT NULL,
    opened_at INTEGER,
    PRIMARY KEY (deflection_id, article_id)
);
CREATE INDEX kb_deflection_articles_article ON kb_deflection_articles(article_id);

-- The anonymous visitor (hashed cookie, as kb_searches.visitor) who filed a ticket
-- through the portal, so the content-gap report can join a search to the ticket that
-- followed it within the hour.
CREATE TABLE ticket_visitors (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
    visitor TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_visitors_visitor ON ticket_visitors(visitor, created_at);
