-- The relay is woken when rows enter the outbox, instead of finding them on its next poll: every statement
-- that inserts into the outbox (an append, republish, a retry of parked rows) sends one NOTIFY on the
-- channel `outbox`, which Postgres delivers when the transaction commits (several in one transaction are
-- delivered once). The relay LISTENs on the connection that holds its lock; its poll stays as the fallback.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
