-- Alerts: a person's subscription of a saved view, or of Needs attention
-- (view_id NULL), to a destination: a Slack incoming webhook, or a webhook
-- whose requests are signed with the secret.
CREATE TABLE alerts (
    id           BIGSERIAL PRIMARY KEY,
    owner_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    view_id      BIGINT REFERENCES saved_views (id) ON DELETE CASCADE,
    destination  TEXT NOT NULL CHECK (destination IN ('slack', 'webhook')),
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX alerts_owner ON alerts (owner_id, id);
--bun:split
CREATE INDEX alerts_view ON alerts (view_id);
--bun:split
-- Every change of an item's status (and every new item), logged in the
-- writing transaction while any alert exists, for the alert worker to read
-- and delete. A change is thus never lost between its commit and its alert.
CREATE TABLE item_transitions (
    id           BIGSERIAL PRIMARY KEY,
    item_id      TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE FUNCTION items_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM alerts) THEN
        INSERT INTO item_transitions (item_id, from_status, to_status, at)
        VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.updated_at);
    END IF;
    RETURN NULL;
END
$$;
--bun:split
CREATE TRIGGER items_transition_insert AFTER INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION items_transition();
--bun:split
CREATE TRIGGER items_transition_update AFTER UPDATE OF status ON items
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION items_transition();
--bun:split
-- The outbox: one row per alert to send, written in the same transaction
-- that consumes its transition. At most one per alert and transition; a
-- test sends a sample and has neither item nor transition.
CREATE TABLE alert_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    alert_id         BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    item_id          TEXT REFERENCES items (id) ON DELETE CASCADE,
    transition_id    BIGINT,
    from_status      TEXT,
    to_status        TEXT NOT NULL,
    changed_at       TIMESTAMPTZ NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    outcome          TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    done_at          TIMESTAMPTZ,
    UNIQUE (alert_id, transition_id)
);
--bun:split
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending';
--bun:split
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id, id DESC);
--bun:split
CREATE INDEX alert_deliveries_item ON alert_deliveries (item_id);
