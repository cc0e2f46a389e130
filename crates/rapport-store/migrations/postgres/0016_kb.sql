-- The knowledge base: categories, articles with their text per language, every version
-- of that text, tags, the synonyms search expands, and the searches people made (for
-- the content-gap report). Search itself is an in-memory index each node builds from
-- these tables and keeps fresh from the event stream (`article_changed` events).

CREATE TABLE kb_categories (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE kb_articles (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    category_id BIGINT REFERENCES kb_categories(id),
    section TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    default_locale TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users(id),
    source_ticket_id BIGINT REFERENCES tickets(id),
    position BIGINT NOT NULL DEFAULT 0,
    views BIGINT NOT NULL DEFAULT 0,
    helpful_yes BIGINT NOT NULL DEFAULT 0,
    helpful_no BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT,
    -- The `tx` its next article_changed event carries (PostgreSQL; see stream.rs).
    event_tx BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX kb_articles_listed ON kb_articles(status, visibility, updated_at);
CREATE INDEX kb_articles_category ON kb_articles(category_id, status);

-- The current text of an article in one language; `version` is that language's newest
-- row in kb_versions.
CREATE TABLE kb_translations (
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, locale)
);

CREATE TABLE kb_versions (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    author_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_versions_article ON kb_versions(article_id, locale, version);

CREATE TABLE kb_article_tags (
    article_id BIGINT NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
);
CREATE INDEX kb_article_tags_tag ON kb_article_tags(tag);

-- A group of words search treats as one (`invoice, bill`), edited by admins.
CREATE TABLE kb_synonyms (
    id BIGSERIAL PRIMARY KEY,
    terms TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);

-- What people searched for, where, and how well it went. `visitor` is a hash of an
-- anonymous visitor's cookie, so a search can be joined to a ticket filed within the hour.
CREATE TABLE kb_searches (
    id BIGSERIAL PRIMARY KEY,
    query TEXT NOT NULL,
    normalized TEXT NOT NULL,
    source TEXT NOT NULL,
    hits BIGINT NOT NULL,
    confident BOOLEAN NOT NULL,
    top_article_id BIGINT REFERENCES kb_articles(id) ON DELETE SET NULL,
    customer_id BIGINT REFERENCES customers(id),
    visitor TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX kb_searches_created ON kb_searches(created_at);
CREATE INDEX kb_searches_customer ON kb_searches(customer_id, created_at);
CREATE INDEX kb_searches_visitor ON kb_searches(visitor, created_at);
