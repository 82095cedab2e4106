-- Who an admin took out of a team, and when: an invite link made before
-- then does not let them back in.
CREATE TABLE team_removals (
    team_id     INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    removed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
