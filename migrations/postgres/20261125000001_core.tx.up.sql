CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    handle      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    avatar_url  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE TABLE teams (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE TABLE memberships (
    team_id     BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
--bun:split
CREATE INDEX memberships_user ON memberships (user_id);
--bun:split
CREATE TABLE items (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('interactive', 'ambient')),
    source             TEXT NOT NULL CHECK (source IN ('interactive', 'cli', 'api', 'slack', 'linear', 'github_actions', 'scheduled')),
    status             TEXT NOT NULL CHECK (status IN ('working', 'blocked', 'canceled', 'failed', 'success')),
    title              TEXT NOT NULL,
    creator_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id            BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    visibility         TEXT NOT NULL CHECK (visibility IN ('private', 'team')),
    created_at         TIMESTAMPTZ NOT NULL,
    started_at         TIMESTAMPTZ,
    finished_at        TIMESTAMPTZ,
    updated_at         TIMESTAMPTZ NOT NULL,
    inference_credits  BIGINT NOT NULL DEFAULT 0 CHECK (inference_credits >= 0),
    compute_credits    BIGINT NOT NULL DEFAULT 0 CHECK (compute_credits >= 0),
    open_url           TEXT NOT NULL DEFAULT '',
    external_url       TEXT NOT NULL DEFAULT '',
    CHECK ((kind = 'interactive') = (source = 'interactive')),
    CHECK (kind = 'interactive' OR status NOT IN ('blocked', 'canceled'))
);
--bun:split
-- Personal, and the own-items arm of All: newest first per creator. The
-- included columns let the summary run as an index-only scan.
CREATE INDEX items_creator_created ON items (creator_id, created_at DESC, id DESC)
    INCLUDE (status, source, inference_credits, compute_credits);
--bun:split
-- One arm of All per team: the team's shared items, newest first.
CREATE INDEX items_team_created ON items (team_id, created_at DESC, id DESC)
    INCLUDE (status, source, creator_id, inference_credits, compute_credits)
    WHERE visibility = 'team';
