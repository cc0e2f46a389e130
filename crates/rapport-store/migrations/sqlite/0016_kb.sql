-- The knowledge base: categories, articles with their text per language, every version
-- of that text, tags, the synonyms search expands, and the searches people made (for
-- the content-gap report). Search itself is an in-memory index each node builds from
-- these tables and keeps fresh from the event stream (`article_changed` events).

CREATE TABLE kb_categories (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE kb_articles (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    category_id INTEGER REFERENCES kb_categories(id),
    section TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    default_locale TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    source_ticket_id INTEGER REFERENCES tickets(id),
    position INTEGER NOT NULL DEFAULT 0,
    views INTEGER NOT NULL DEFAULT 0,
    helpful_yes INTEGER NOT NULL DEFAULT 0,
    helpful_no INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    published_at INTEGER,
    -- The `tx` its next article_changed event carries (PostgreSQL; see stream.rs).
    event_tx INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kb_articles_listed ON kb_articles(status, visibility, updated_at);
CREATE INDEX kb_articles_category ON kb_articles(category_id, status);

-- The current text of an article in one language; `version` is that language's newest
-- row in kb_versions.
CREATE TABLE kb_translations (
    article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users(id),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, locale)
);

CREATE TABLE kb_versions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    author_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX kb_versions_article ON kb_versions(article_id, locale, version);

CREATE TABLE kb_article_tags (
    article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
);
CREATE INDEX kb_article_tags_tag ON kb_article_tags(tag);

-- A group of words search treats as one (`invoice, bill`), edited by admins.
CREATE TABLE kb_synonyms (
    id INTEGER PRIMARY KEY,
    terms TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);

-- What people searched for, where, and how well it went. `visitor` is a hash of an
-- anonymous visitor's cookie, so a search can be joined to a ticket filed within the hour.
CREATE TABLE kb_searches (
    id INTEGER PRIMARY KEY,
    query TEXT NOT NULL,
    normalized TEXT NOT NULL,
    source TEXT NOT NULL,
    hits INTEGER NOT NULL,
    confident BOOLEAN NOT NULL,
    top_article_id INTEGER REFERENCES kb_articles(id) ON DELETE SET NULL,
    customer_id INTEGER REFERENCES customers(id),
    visitor TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX kb_searches_created ON kb_searches(created_at);
CREATE INDEX kb_searches_customer ON kb_searches(customer_id, created_at);
CREATE INDEX kb_searches_visitor ON kb_searches(visitor, created_at);
