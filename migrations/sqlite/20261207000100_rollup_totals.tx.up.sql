-- Totals over every day beside the rollups by day, for the views without a
-- day filter, and the day moved up in the key of a person's rollup by day:
-- see the PostgreSQL migration of the same name. SQLite cannot change a
-- table's key, so the rollup by day is copied into a table with the new one,
-- and the triggers, which name it, are made anew.
DROP TRIGGER items_rollups_insert;
--bun:split
DROP TRIGGER items_rollups_delete;
--bun:split
DROP TRIGGER items_rollups_update;
--bun:split
CREATE TABLE rollup_creators_by_day (
    creator_id  INTEGER NOT NULL,
    team_id     INTEGER NOT NULL,
    visibility  TEXT NOT NULL,
    day         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    whole       INTEGER NOT NULL,
    micro       INTEGER NOT NULL,
    PRIMARY KEY (creator_id, day, team_id, visibility, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
INSERT INTO rollup_creators_by_day SELECT * FROM rollup_creators;
--bun:split
DROP TABLE rollup_creators;
--bun:split
ALTER TABLE rollup_creators_by_day RENAME TO rollup_creators;
--bun:split
CREATE TABLE rollup_creator_totals (
    creator_id  INTEGER NOT NULL,
    team_id     INTEGER NOT NULL,
    visibility  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    whole       INTEGER NOT NULL,
    micro       INTEGER NOT NULL,
    PRIMARY KEY (creator_id, team_id, visibility, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TABLE rollup_team_totals (
    team_id  INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    source   TEXT NOT NULL,
    status   TEXT NOT NULL,
    shard    INTEGER NOT NULL,
    items    INTEGER NOT NULL,
    whole    INTEGER NOT NULL,
    micro    INTEGER NOT NULL,
    PRIMARY KEY (team_id, kind, source, status, shard)
) WITHOUT ROWID;
--bun:split
CREATE TRIGGER items_rollups_insert AFTER INSERT ON items BEGIN
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE TRIGGER items_rollups_delete AFTER DELETE ON items BEGIN
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE TRIGGER items_rollups_update AFTER UPDATE OF creator_id, team_id, visibility, created_at, kind, source, status, inference_credits, compute_credits ON items
    WHEN NEW.creator_id IS NOT OLD.creator_id OR NEW.team_id IS NOT OLD.team_id OR NEW.visibility IS NOT OLD.visibility
        OR NEW.created_at IS NOT OLD.created_at OR NEW.kind IS NOT OLD.kind OR NEW.source IS NOT OLD.source OR NEW.status IS NOT OLD.status
        OR NEW.inference_credits IS NOT OLD.inference_credits OR NEW.compute_credits IS NOT OLD.compute_credits BEGIN
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (OLD.creator_id, COALESCE(OLD.team_id, 0), OLD.visibility, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT OLD.team_id, OLD.kind, OLD.source, OLD.status, unicode(substr(OLD.id, -1)) % 4, -1, -(OLD.inference_credits / 1000000 + OLD.compute_credits / 1000000), -(OLD.inference_credits % 1000000 + OLD.compute_credits % 1000000)
        WHERE OLD.team_id IS NOT NULL AND OLD.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creators (creator_id, team_id, visibility, day, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, day, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_teams (team_id, day, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, day, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_creator_totals (creator_id, team_id, visibility, kind, source, status, shard, items, whole, micro)
        VALUES (NEW.creator_id, COALESCE(NEW.team_id, 0), NEW.visibility, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000))
        ON CONFLICT (creator_id, team_id, visibility, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
    INSERT INTO rollup_team_totals (team_id, kind, source, status, shard, items, whole, micro)
        SELECT NEW.team_id, NEW.kind, NEW.source, NEW.status, unicode(substr(NEW.id, -1)) % 4, 1, (NEW.inference_credits / 1000000 + NEW.compute_credits / 1000000), (NEW.inference_credits % 1000000 + NEW.compute_credits % 1000000)
        WHERE NEW.team_id IS NOT NULL AND NEW.visibility = 'team'
        ON CONFLICT (team_id, kind, source, status, shard) DO UPDATE SET items = items + excluded.items, whole = whole + excluded.whole, micro = micro + excluded.micro;
END;
--bun:split
CREATE VIEW rollup_creator_totals_expected AS
SELECT creator_id, COALESCE(team_id, 0) AS team_id, visibility,
       kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM items GROUP BY 1, 2, 3, 4, 5, 6, 7;
--bun:split
CREATE VIEW rollup_team_totals_expected AS
SELECT team_id, kind, source, status, unicode(substr(id, -1)) % 4 AS shard, COUNT(*) AS items,
       SUM(inference_credits / 1000000 + compute_credits / 1000000) AS whole,
       SUM(inference_credits % 1000000 + compute_credits % 1000000) AS micro
FROM items WHERE team_id IS NOT NULL AND visibility = 'team' GROUP BY 1, 2, 3, 4, 5;
--bun:split
-- Summed from the rollups by day, which hold the items already counted.
INSERT INTO rollup_creator_totals
SELECT creator_id, team_id, visibility, kind, source, status, shard, SUM(items), SUM(whole), SUM(micro)
FROM rollup_creators GROUP BY 1, 2, 3, 4, 5, 6, 7;
--bun:split
INSERT INTO rollup_team_totals
SELECT team_id, kind, source, status, shard, SUM(items), SUM(whole), SUM(micro)
FROM rollup_teams GROUP BY 1, 2, 3, 4, 5;
