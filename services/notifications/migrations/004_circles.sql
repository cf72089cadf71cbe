-- Groups and peer circles (issue 17): a circle has no mentor; a group's further mentors are parties too.
ALTER TABLE relationships ALTER COLUMN mentor_id DROP NOT NULL;
ALTER TABLE relationships ADD COLUMN co_mentor_ids text[] NOT NULL DEFAULT '{}';
