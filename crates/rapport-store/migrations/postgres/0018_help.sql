-- The public help center: readers' feedback on articles, views per article per day (for
-- period reports), and the help desk's branding (name, colour, logo).

-- "Was this helpful?": one vote per reader per article — a signed-in customer (`c:<id>`)
-- or an anonymous visitor (`v:<hash of the visitor cookie>`), kept in `voter`; voting
-- again changes the vote. kb_articles.helpful_yes/helpful_no count these rows and change
-- in the same transaction.
CREATE TABLE kb_feedback (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    helpful BOOLEAN NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    voter TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers(id),
    visitor TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_feedback_voter ON kb_feedback(article_id, voter);
CREATE INDEX kb_feedback_updated ON kb_feedback(updated_at);

-- Views per article per UTC day (`day`: days since the epoch, as `stats`), added up in
-- memory by each node and written every few seconds; kb_articles.views is the total.
CREATE TABLE kb_article_views (
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (article_id, day)
);
CREATE INDEX kb_article_views_day ON kb_article_views(day);

-- The help center's look, set by an admin: one row (id 1). The logo is a small uploaded
-- image served from /help/logo (the pages' Content-Security-Policy allows images from
-- this site only).
CREATE TABLE branding (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    logo_type TEXT,
    logo BYTEA,
    updated_at BIGINT NOT NULL
);
