-- Sessions that agents report themselves (§10). An item reported by an agent
-- is keyed by its owner, the agent and the agent's own session id, so that
-- every channel that names the session (hooks, OTLP, agent output) meets on
-- one item.
ALTER TABLE items ADD COLUMN agent_name TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE items ADD COLUMN agent_session TEXT NOT NULL DEFAULT '';
--bun:split
-- The models the session used, comma-separated in the order first seen.
ALTER TABLE items ADD COLUMN models TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE items ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE items ADD COLUMN cached_input_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE items ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
-- Models whose tokens had no price: while set, the credits are unknown.
ALTER TABLE items ADD COLUMN unpriced_models TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE items ADD COLUMN cwd TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE items ADD COLUMN repo TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE items ADD COLUMN branch TEXT NOT NULL DEFAULT '';
--bun:split
-- Why a failed or canceled item ended, or what a blocked one waits for.
ALTER TABLE items ADD COLUMN reason TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE items ADD COLUMN first_prompt TEXT NOT NULL DEFAULT '';
--bun:split
-- When the server last heard of the session, and the agent's time of the
-- signal that set the current status, so that a late signal never undoes a
-- newer one.
ALTER TABLE items ADD COLUMN heard_at TIMESTAMPTZ;
--bun:split
ALTER TABLE items ADD COLUMN status_at TIMESTAMPTZ;
--bun:split
-- The last sequence number the server gave one of the item's events.
ALTER TABLE items ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
--bun:split
-- The most direct channel that has written the transcript (hooks over agent
-- output over OTLP); less direct channels stop adding to it.
ALTER TABLE items ADD COLUMN transcript_rank SMALLINT NOT NULL DEFAULT 0;
--bun:split
CREATE UNIQUE INDEX items_agent_session ON items (creator_id, agent_name, agent_session) WHERE agent_session <> '';
--bun:split
-- The sessions the liveness rule watches: agents' items still open.
CREATE INDEX items_agent_open ON items (heard_at) WHERE agent_name <> '' AND status IN ('working', 'blocked');
--bun:split
-- A transcript entry that several channels report (a tool call named by its
-- id in hooks, OTLP and agent output) is stored once, under its key.
ALTER TABLE events ADD COLUMN key TEXT;
--bun:split
CREATE UNIQUE INDEX events_item_key ON events (item_id, key) WHERE key IS NOT NULL;
--bun:split
-- Batches of events the server numbered, by the client's Idempotency-Key, so
-- that a retried batch is recognised.
CREATE TABLE event_batches (
    item_id     TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    events      INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_id, key)
);
--bun:split
-- What each channel reported an item's session cost, one row per record
-- (an API request, a turn, a session total), so that a record received twice
-- counts once. Credits are NULL when the model had no price.
CREATE TABLE usage_records (
    item_id              TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    channel              TEXT NOT NULL,
    key                  TEXT NOT NULL,
    model                TEXT NOT NULL DEFAULT '',
    credits              BIGINT CHECK (credits >= 0),
    input_tokens         BIGINT NOT NULL DEFAULT 0,
    cached_input_tokens  BIGINT NOT NULL DEFAULT 0,
    output_tokens        BIGINT NOT NULL DEFAULT 0,
    created_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_id, channel, key)
);
--bun:split
-- OTLP records a token delivered, and how many of them no adapter knew.
ALTER TABLE access_tokens ADD COLUMN otlp_records BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE access_tokens ADD COLUMN unrecognised_records BIGINT NOT NULL DEFAULT 0;
