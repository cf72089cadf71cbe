-- SCIM groups are departments: a group is its name (and the identity provider's external id); its members
-- are the scim_users whose enterprise department is that name, so membership is not stored here.
CREATE TABLE scim_groups (
    group_id     text PRIMARY KEY,
    display_name text NOT NULL,
    external_id  text,
    resource     jsonb NOT NULL,
    version      integer NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (lower(display_name));
CREATE INDEX scim_users_department
    ON scim_users (lower(resource -> 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' ->> 'department'));

-- A SCIM password is never kept (RFC 7643 §4.1.1: never returned; sign-in is OpenID Connect): forget any an
-- earlier version stored, however its name was spelt (attribute names are case-insensitive, the URN may prefix).
UPDATE scim_users
SET resource = resource - ARRAY(
    SELECT key FROM jsonb_object_keys(resource) AS key
    WHERE lower(key) IN ('password', 'urn:ietf:params:scim:schemas:core:2.0:user:password')
)
WHERE EXISTS (
    SELECT 1 FROM jsonb_object_keys(resource) AS key
    WHERE lower(key) IN ('password', 'urn:ietf:params:scim:schemas:core:2.0:user:password')
);
