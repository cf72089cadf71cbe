-- People signed in to the portal (shared/web_session.py): the browser holds a random session id, this table its
-- SHA-256, who signed in and the session's CSRF token. Logout deletes the row.
CREATE TABLE web_sessions (
    id_hash    bytea       PRIMARY KEY,
    subject    text        NOT NULL,
    roles      text[]      NOT NULL,
    csrf_token text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
-- Sign-ins under way: the OpenID Connect state (hashed), nonce and PKCE verifier, until the provider sends the
-- browser back (taken once).
CREATE TABLE web_logins (
    state_hash    bytea       PRIMARY KEY,
    nonce         text        NOT NULL,
    code_verifier text        NOT NULL,
    redirect_uri  text        NOT NULL,
    expires_at    timestamptz NOT NULL
);
-- The provider's tokens of a session (refresh token, access token per service), sealed with AES-GCM under a key
-- derived from the session id, which only the browser's cookie holds: this table alone opens no API. Gone with the
-- session (logout, expiry).
CREATE TABLE session_tokens (
    id_hash bytea PRIMARY KEY REFERENCES web_sessions (id_hash) ON DELETE CASCADE,
    sealed  bytea NOT NULL
);
