-- A snapshot's roster is the session's scratch list: every session sends its own whole roster when it opens,
-- and it is read only while the session takes rows (a completed session's roster is deleted). Unlogged, it
-- is written without WAL: a nightly snapshot of 110,000 workers copied it in at about a third of the
-- snapshot's time (bench/hr_import.py). After a crash Postgres empties it: the rows of a session that was
-- open then are refused as outside its roster (errors, nothing applied); the file is sent again in a new
-- session, as after any interrupted import.
-- Its rows are written only in the transaction that creates their session, and sessions are never deleted,
-- so the foreign key checked nothing there is not already: its check, one per roster row, was a third of the
-- roster's insert (pg_stat_statements, bench/hr_import.py --statements).
ALTER TABLE hr_import_roster DROP CONSTRAINT IF EXISTS hr_import_roster_import_id_fkey;
ALTER TABLE hr_import_roster SET UNLOGGED;
