-- Needs attention: when an item began to need a person, by the server's
-- clock (the updated_at of the write that made it blocked or failed), NULL
-- while it is neither. The database keeps it on every write that changes a
-- status, whichever path the write takes, so that it is never out of step.
ALTER TABLE items ADD COLUMN attention_at TIMESTAMPTZ;
--bun:split
UPDATE items SET attention_at = updated_at WHERE status IN ('blocked', 'failed');
--bun:split
CREATE FUNCTION items_attention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('blocked', 'failed') THEN
        IF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status OR NEW.attention_at IS NULL THEN
            NEW.attention_at := NEW.updated_at;
        END IF;
    ELSE
        NEW.attention_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
--bun:split
CREATE TRIGGER items_attention BEFORE INSERT OR UPDATE OF status ON items
    FOR EACH ROW EXECUTE FUNCTION items_attention();
--bun:split
-- The arms of Needs attention, newest need first: a person's own items, and
-- each team's shared ones. They hold only the items that need attention, a
-- small part of all.
CREATE INDEX items_attention_creator ON items (creator_id, attention_at DESC, id DESC)
    INCLUDE (status) WHERE attention_at IS NOT NULL;
--bun:split
CREATE INDEX items_attention_team ON items (team_id, attention_at DESC, id DESC)
    INCLUDE (status, creator_id) WHERE attention_at IS NOT NULL AND visibility = 'team';
--bun:split
-- What each person acknowledged: an item, as of the moment it began to need
-- attention. When it needs attention again later, it shows again.
CREATE TABLE attention_acks (
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id       TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    attention_at  TIMESTAMPTZ NOT NULL,
    acked_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
--bun:split
CREATE INDEX attention_acks_item ON attention_acks (item_id);
--bun:split
-- A person's visits to Needs attention: the latest, and the one before it,
-- since which entries are marked new.
CREATE TABLE attention_visits (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    seen_at      TIMESTAMPTZ NOT NULL,
    previous_at  TIMESTAMPTZ
);
