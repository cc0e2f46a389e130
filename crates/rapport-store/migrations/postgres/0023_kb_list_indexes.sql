-- The help center's lists at the size of a real knowledge base (10,000 articles): each
-- list reads an index range in its own order and stops at its page, instead of sorting
-- every published article on every page view.
--   popular (front page, related articles in a category): views, newest id first;
--   recent (front page): first published, newest first (`ORDER BY published_at DESC
--     NULLS LAST, id DESC` — a draft never published comes last);
--   a category's page: position within the category, then oldest first;
--   the number of articles each category holds for a reader: counted from the index
--     alone (status, category, visibility).
CREATE INDEX kb_articles_popular ON kb_articles(status, views, id);
CREATE INDEX kb_articles_recent ON kb_articles(status, published_at DESC NULLS LAST, id DESC);
CREATE INDEX kb_articles_in_category ON kb_articles(category_id, status, position, id);
CREATE INDEX kb_articles_category_popular ON kb_articles(category_id, status, views, id);
CREATE INDEX kb_articles_counted ON kb_articles(status, category_id, visibility);
-- A prefix of kb_articles_in_category.
DROP INDEX kb_articles_category;
