-- Every statement that adds events tells the nodes listening on `rapport_events` (one
-- notification per transaction: PostgreSQL folds identical ones), so their live views and
-- chat sockets look at the event stream at once instead of at their next poll.
CREATE FUNCTION rapport_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rapport_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION rapport_events_notify();
