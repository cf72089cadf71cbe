-- The participants read model carries the whole participant; indexes serve the mentor directory.
ALTER TABLE participants
    ADD COLUMN employee_id     text UNIQUE,
    ADD COLUMN demographics    jsonb,
    ADD COLUMN availability    jsonb,
    ADD COLUMN training_status text NOT NULL DEFAULT 'untrained',
    ADD COLUMN training        jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN priority_group  text,
    ADD COLUMN inactive_reason text,
    ADD COLUMN active_mentees  integer NOT NULL DEFAULT 0;

CREATE INDEX participants_roles ON participants USING gin (roles);
CREATE INDEX participants_interests ON participants USING gin ((profile -> 'interests'));
CREATE INDEX participants_languages ON participants USING gin ((profile -> 'languages'));
CREATE INDEX participants_specialty ON participants (lower(profile ->> 'specialty'));
