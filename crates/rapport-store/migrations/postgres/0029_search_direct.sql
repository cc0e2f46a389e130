-- The search index's GIN takes each new entry at once instead of through its pending
-- list. With the list, the write that fills it merges it into the index (a thousand
-- entries, a few hundred milliseconds) inside its own transaction, and while that
-- transaction runs the event stream's horizon (`pg_snapshot_xmin`) holds every other
-- node's and view's events back: at 500 chat messages a second one message in a hundred
-- reached the agent 400 ms late. Direct entry costs each write a little; no write stalls
-- the stream, and searches no longer read a pending list.
ALTER INDEX search_index_tsv SET (fastupdate = off);
SELECT gin_clean_pending_list('search_index_tsv'::regclass);
