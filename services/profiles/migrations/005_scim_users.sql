-- SCIM 2.0 users as the identity provider sees them; each write also becomes an HR fact about the worker.
CREATE TABLE scim_users (
    user_id     text PRIMARY KEY,
    user_name   text NOT NULL,
    external_id text,
    employee_id text NOT NULL UNIQUE,
    resource    jsonb NOT NULL,
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (lower(user_name));
CREATE INDEX scim_users_external_id ON scim_users (external_id);
