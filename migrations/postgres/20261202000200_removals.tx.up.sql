-- Who an admin took out of a team, and when: an invite link made before
-- then does not let them back in.
CREATE TABLE team_removals (
    team_id     BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    removed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
