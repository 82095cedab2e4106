-- One row per account at a sign-in provider, keyed by the provider's own
-- subject: an e-mail address alone never decides who someone is.
CREATE TABLE identities (
    provider      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email         TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    signed_in_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);
--bun:split
CREATE INDEX identities_user ON identities (user_id);
--bun:split
-- Server-side sessions. The cookie holds a random id; only its SHA-256 is
-- stored. Deleting a user deletes their sessions, which signs them out.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    data          BLOB NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX sessions_user ON sessions (user_id);
--bun:split
CREATE INDEX sessions_expires ON sessions (expires_at);
--bun:split
-- Invite links to a team. Only a hash of the token is stored.
CREATE TABLE team_invites (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id     INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
--bun:split
CREATE INDEX team_invites_team ON team_invites (team_id, created_at DESC);
