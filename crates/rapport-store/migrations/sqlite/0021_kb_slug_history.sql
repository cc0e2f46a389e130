-- Slugs articles were known by before they were renamed: /help/articles/<old slug>
-- answers 301 with the article's current address. A slug an article holds now always
-- wins (it is looked up first); a slug left again points to whoever left it last.
CREATE TABLE kb_slug_history (
    slug TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX kb_slug_history_article ON kb_slug_history(article_id);
