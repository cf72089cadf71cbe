-- A process keeps the answers of participant_standing it asked for (shared.standing.StandingCache) while it
-- LISTENs on `participant_standing`: every change to a row NOTIFYs the participant's id, delivered when the
-- transaction commits, and the processes forget that participant's answer.
CREATE FUNCTION participant_standing_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('participant_standing', OLD.participant_id);
    ELSE
        PERFORM pg_notify('participant_standing', NEW.participant_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER participant_standing_notify AFTER INSERT OR UPDATE OR DELETE ON participant_standing
    FOR EACH ROW EXECUTE FUNCTION participant_standing_notify();

CREATE FUNCTION participant_standing_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('participant_standing', '');  -- an empty id: forget every answer
    RETURN NULL;
END $$;

CREATE TRIGGER participant_standing_truncated AFTER TRUNCATE ON participant_standing
    FOR EACH STATEMENT EXECUTE FUNCTION participant_standing_truncated();
