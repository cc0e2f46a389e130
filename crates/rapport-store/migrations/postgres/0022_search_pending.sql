-- New search entries wait in the GIN index's pending list until it is merged into the
-- index, and every search reads the whole list. At the default 4 MB that is some twenty
-- thousand entries read by each search after a burst of new tickets; 256 kB keeps it to
-- about a thousand, merged by the writer that fills it.
ALTER INDEX search_index_tsv SET (gin_pending_list_limit = 256);
