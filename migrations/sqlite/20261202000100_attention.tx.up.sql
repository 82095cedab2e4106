-- Needs attention: when an item began to need a person, by the server's
-- clock (the updated_at of the write that made it blocked or failed), NULL
-- while it is neither. The database keeps it on every write that changes a
-- status, whichever path the write takes, so that it is never out of step.
ALTER TABLE items ADD COLUMN attention_at TIMESTAMP;
--bun:split
UPDATE items SET attention_at = updated_at WHERE status IN ('blocked', 'failed');
--bun:split
CREATE TRIGGER items_attention_insert AFTER INSERT ON items WHEN NEW.status IN ('blocked', 'failed') BEGIN
    UPDATE items SET attention_at = NEW.updated_at WHERE rowid = NEW.rowid;
END;
--bun:split
CREATE TRIGGER items_attention_update AFTER UPDATE OF status ON items WHEN NEW.status IS NOT OLD.status BEGIN
    UPDATE items SET attention_at = CASE WHEN NEW.status IN ('blocked', 'failed') THEN NEW.updated_at END
        WHERE rowid = NEW.rowid;
END;
--bun:split
CREATE INDEX items_attention_creator ON items (creator_id, attention_at DESC, id DESC) WHERE attention_at IS NOT NULL;
--bun:split
CREATE INDEX items_attention_team ON items (team_id, attention_at DESC, id DESC) WHERE attention_at IS NOT NULL AND visibility = 'team';
--bun:split
-- What each person acknowledged: an item, as of the moment it began to need
-- attention. When it needs attention again later, it shows again.
CREATE TABLE attention_acks (
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id       TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    attention_at  TIMESTAMP NOT NULL,
    acked_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
--bun:split
CREATE INDEX attention_acks_item ON attention_acks (item_id);
--bun:split
-- A person's visits to Needs attention: the latest, and the one before it,
-- since which entries are marked new.
CREATE TABLE attention_visits (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    seen_at      TIMESTAMP NOT NULL,
    previous_at  TIMESTAMP
);
