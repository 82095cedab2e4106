-- Saved views: a name for a view's query string, kept for its owner alone
-- or shared with one of their teams. They go with their team, and with
-- their owner.
CREATE TABLE saved_views (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id     INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX saved_views_owner ON saved_views (owner_id);
--bun:split
CREATE INDEX saved_views_team ON saved_views (team_id);
--bun:split
-- The view a person lands on at /, when they have chosen one.
CREATE TABLE landing_views (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    view_id     INTEGER NOT NULL REFERENCES saved_views (id) ON DELETE CASCADE
);
--bun:split
CREATE INDEX landing_views_view ON landing_views (view_id);
