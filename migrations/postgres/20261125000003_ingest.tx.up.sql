-- Personal access tokens for the API. Only a SHA-256 hash of the secret is
-- kept; the prefix is the secret's first characters, shown in the settings
-- and used to find the candidates before a constant-time comparison.
CREATE TABLE access_tokens (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    hash          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
--bun:split
CREATE INDEX access_tokens_prefix ON access_tokens (prefix);
--bun:split
CREATE INDEX access_tokens_user ON access_tokens (user_id, created_at DESC);
--bun:split
-- A create replayed with the same id or Idempotency-Key is recognised by the
-- digest of its request.
ALTER TABLE items ADD COLUMN create_key TEXT;
--bun:split
ALTER TABLE items ADD COLUMN create_hash TEXT;
--bun:split
CREATE UNIQUE INDEX items_creator_create_key ON items (creator_id, create_key) WHERE create_key IS NOT NULL;
--bun:split
-- What happened inside an item: messages, log lines and outputs, in the order
-- of the client's sequence numbers. The key makes a retried batch harmless.
CREATE TABLE events (
    item_id     TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL CHECK (seq > 0),
    type        TEXT NOT NULL CHECK (type IN ('message', 'log', 'output')),
    role        TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL DEFAULT '',
    data        JSONB,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_id, seq)
);
--bun:split
-- Messages and outputs are few beside the logs; this index finds them without
-- reading every log line, and costs nothing when a log line is written.
CREATE INDEX events_not_logs ON events (item_id, type, seq) WHERE type <> 'log';
--bun:split
-- One revocable share link per item; only its hash is kept.
CREATE TABLE share_links (
    item_id     TEXT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    hash        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);
