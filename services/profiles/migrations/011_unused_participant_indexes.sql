-- Two of the mentor directory's indexes serve no query: the directory asks 'mentor' = ANY(roles) and looks for an
-- interest with jsonb_array_elements_text (adapters/queries.py), which a GIN index on roles or on
-- profile -> 'interests' cannot answer; no other read of participants touches either. Every new or rewritten
-- participant row still updated both: about 1.8 µs of Postgres CPU a row of a first HR import
-- (bench/hr_import.py; 100,000 rows inserted 1,000 a statement with and without them). Languages (?) and
-- specialty (lower(...) =) are asked in ways their indexes answer, and stay.
DROP INDEX IF EXISTS participants_roles;
DROP INDEX IF EXISTS participants_interests;
