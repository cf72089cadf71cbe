-- A participant's time zone (from profiles' events): meeting invitations are written in the recipient's zone.
ALTER TABLE contacts ADD COLUMN time_zone text;
