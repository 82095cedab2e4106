-- One arm of All filtered by creator: a team's shared items by one person,
-- newest first, so the arm stays an ordered index scan that stops at its LIMIT.
CREATE INDEX items_team_creator_created ON items (team_id, creator_id, created_at DESC, id DESC) WHERE visibility = 'team';
