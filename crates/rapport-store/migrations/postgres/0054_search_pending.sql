-- SQLite only (its FTS5 index's staging table, see migrations/sqlite/0054_search_pending.sql):
-- PostgreSQL's index takes each entry as it comes.
SELECT 1;
