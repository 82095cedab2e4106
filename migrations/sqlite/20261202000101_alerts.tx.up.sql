-- Alerts: a person's subscription of a saved view, or of Needs attention
-- (view_id NULL), to a destination: a Slack incoming webhook, or a webhook
-- whose requests are signed with the secret.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    view_id      INTEGER REFERENCES saved_views (id) ON DELETE CASCADE,
    destination  TEXT NOT NULL CHECK (destination IN ('slack', 'webhook')),
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
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
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id      TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    at           TIMESTAMP NOT NULL
);
--bun:split
CREATE TRIGGER items_transition_insert AFTER INSERT ON items WHEN EXISTS (SELECT 1 FROM alerts) BEGIN
    INSERT INTO item_transitions (item_id, from_status, to_status, at) VALUES (NEW.id, NULL, NEW.status, NEW.updated_at);
END;
--bun:split
CREATE TRIGGER items_transition_update AFTER UPDATE OF status ON items
    WHEN NEW.status IS NOT OLD.status AND EXISTS (SELECT 1 FROM alerts) BEGIN
    INSERT INTO item_transitions (item_id, from_status, to_status, at) VALUES (NEW.id, OLD.status, NEW.status, NEW.updated_at);
END;
--bun:split
-- The outbox: one row per alert to send, written in the same transaction
-- that consumes its transition. At most one per alert and transition; a
-- test sends a sample and has neither item nor transition.
CREATE TABLE alert_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id         INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    item_id          TEXT REFERENCES items (id) ON DELETE CASCADE,
    transition_id    INTEGER,
    from_status      TEXT,
    to_status        TEXT NOT NULL,
    changed_at       TIMESTAMP NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    outcome          TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    done_at          TIMESTAMP,
    UNIQUE (alert_id, transition_id)
);
--bun:split
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending';
--bun:split
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id, id DESC);
--bun:split
CREATE INDEX alert_deliveries_item ON alert_deliveries (item_id);
